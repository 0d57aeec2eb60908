"""The UWV messages: build and check the XML of a notification, sign and verify it (XML-DSig).
Imports only `domain/`, `common/` and `uwvcli.errors`: it loads the credentials it is given."""
