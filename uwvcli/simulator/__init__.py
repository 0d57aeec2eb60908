"""A local Digipoort (WUS over mutual TLS) and its test PKI: a tool that uses `digipoort/`.
Imports `digipoort/`, `messages/`, `domain/`, `common/`; nothing but `app/` and `cli/` imports it."""
