"""Digipoort: codes, SOAP/WS-Security client, simulator and the exactly-once delivery loop."""
