"""What survives a run: the journal (SQLite), the outbox folder and the run lock.
Imports only `domain/`, `common/` and `uwvcli.errors`."""
