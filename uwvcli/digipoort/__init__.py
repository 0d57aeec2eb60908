"""Digipoort transport only: addresses, the WUS client, SOAP, WS-Security, status codes and findings.
Imports only `domain/`, `common/` and `uwvcli.errors`; never delivery, state, app, cli or the simulator."""
