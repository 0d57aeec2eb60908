"""Exactly-once delivery of the outbox to Digipoort and following the statuses.
Imports `digipoort/`, `state/`, `messages/`, `domain/`, `common/`; never the simulator, app or cli."""
