"""What comes in: the configuration file and the HR exports, parsed strictly into `domain` values.
Imports only `domain/`, `common/` and `uwvcli.errors`."""
