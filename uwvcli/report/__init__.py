"""`uwvcli report`'s page: the overview payroll staff open in a browser (model: what it shows and
in which order; html: the page itself; markup: escaping; assets: inline style and script)."""
