"""The pure core: notifications, the rules that make them due, workdays, identifiers, labels.
Imports only `domain/` and `uwvcli.errors`: no I/O, no clock, no gc (the caller passes the date)."""
