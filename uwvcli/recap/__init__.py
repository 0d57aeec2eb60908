"""The recap each employer gets: Dutch text, .eml files, and mailing them.
Imports `domain/`, `state/`, `common/` and of `digipoort/` only codes and findings (their meaning)."""
