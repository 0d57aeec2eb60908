"""`uwvcli report`'s page: the overview payroll staff open in a browser (model: what it shows and
in which order; html: the page itself; markup: escaping; assets: inline style and script).
Pure rendering: imports `domain/`, `common/`, the recap's Dutch wording and of `digipoort/` only codes."""
