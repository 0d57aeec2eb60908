"""Small helpers every layer may use: safe XML parsing, loopback checks, memory housekeeping.
Imports nothing else of uwvcli but `uwvcli.errors`."""
