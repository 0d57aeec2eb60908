"""Which YAML loader uwvcli parses with: libyaml's safe loader when PyYAML was built with it,
else the pure-Python one. Both are `yaml.SafeLoader`s (plain data only, no Python objects); the C
one parses a big configuration in a fraction of the time (20,000 employers: seconds, not a
minute) and the table of Digipoort codes fast enough for `uwvcli explain` to start at once."""

from __future__ import annotations

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
