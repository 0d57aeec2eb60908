"""The overview's style sheet and script, inlined into the page (it must work from a file share or
as a mail attachment: nothing is fetched). The group colours are added by `html.py` from
`model.GROUPS`, so a colour is defined once."""

from __future__ import annotations

from uwvcli.report.markup import Markup

CSS = Markup(
    """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: var(--ink); background: #fff; }
header, main, footer { padding: 0 24px; max-width: 1400px; margin: 0 auto; }
header { padding-top: 16px; }
h1 { font-size: 1.5em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 8px; }
h3 { font-size: 1.05em; margin: 0; }
p { margin: 4px 0; }
.meta, .muted, figcaption { color: var(--muted); }
.small { font-size: 0.88em; }
code, .kenmerk { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.kenmerk { white-space: nowrap; user-select: all; }
.attention-banner { border-left: 4px solid #b3261e; background: #fdf1f0; padding: 8px 12px; margin: 12px 0; }
.calm-banner { border-left: 4px solid #2e7d32; background: #eff7ef; padding: 8px 12px; margin: 12px 0; }
#filters { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line);
           padding: 10px 24px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; }
#filters label { display: flex; flex-direction: column; font-size: 0.85em; color: var(--muted); }
#filters select, #filters button { font: inherit; font-size: 0.95rem; padding: 4px 6px; min-width: 12em;
           color: var(--ink); }
#filters button { min-width: 0; cursor: pointer; }
#shown { color: var(--muted); font-size: 0.9em; margin-left: auto; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
thead th { font-size: 0.85em; color: var(--muted); font-weight: 600; white-space: nowrap;
           border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
section.employer { margin-top: 24px; }
table.notifications { table-layout: fixed; min-width: 1150px; }
col.c-who { width: 9%; } col.c-kind { width: 11.5%; } col.c-due { width: 9.5%; }
col.c-deadline { width: 10.5%; }
col.c-state { width: 9%; } col.c-digipoort { width: 28.5%; } col.c-explanation { width: 22%; }
table.notifications td { overflow-wrap: break-word; }
section.employer > h3 { padding: 6px 0; border-bottom: 2px solid var(--ink); }
tr.group-head th { background: var(--soft); font-size: 0.95em; padding-top: 10px; }
tr.group-head h4 { margin: 0; font-size: 1em; }
tr.group-head p { font-weight: normal; color: var(--muted); font-size: 0.9em; }
tr.group-head th { border-left: 4px solid var(--group); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; background: var(--group);
         font-size: 0.85em; white-space: nowrap; }
.flag { display: inline-block; padding: 0 6px; border-radius: 4px; border: 1px solid currentColor;
        font-size: 0.8em; white-space: nowrap; }
.flag.warn { color: #b3261e; }
.flag.info { color: var(--muted); }
ul.plain { margin: 2px 0; padding-left: 18px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; background: var(--group);
          vertical-align: -1px; margin-right: 4px; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0; }
svg .bar { fill: var(--group); }
svg text { font: 11px system-ui, Arial, sans-serif; fill: var(--muted); }
svg .axis { stroke: var(--line); }
table.calendar { table-layout: fixed; }
table.calendar th.week { width: 5.5em; }
table.calendar td { height: 5.5em; border: 1px solid var(--line); padding: 4px; }
table.calendar td.outside { background: var(--soft); color: var(--muted); }
table.calendar td.today { outline: 2px solid #1565c0; outline-offset: -2px; }
table.calendar .date { font-size: 0.8em; color: var(--muted); }
table.calendar ul { list-style: none; margin: 2px 0 0; padding: 0; }
table.calendar li { font-size: 0.82em; border-left: 3px solid #1565c0; padding: 1px 4px; margin-bottom: 3px;
                    background: #eef4fc; overflow-wrap: anywhere; }
table.calendar li.warn { border-left-color: #b3261e; background: #fdf1f0; }
footer { margin: 32px auto 24px; color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--line);
         padding-top: 8px; }
@media print { #filters { display: none; } body { font-size: 11px; } }
"""
)

JS = Markup(
    """
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  var employer = document.getElementById("f-employer");
  var kind = document.getElementById("f-kind");
  var state = document.getElementById("f-state");
  var reset = document.getElementById("f-reset");
  var shown = document.getElementById("shown");
  var nothing = document.getElementById("nothing-matches");
  var each = function (selector, action) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), action);
  };
  function matches(item) {
    if (employer.value && item.getAttribute("data-employer") !== employer.value) return false;
    if (kind.value && item.getAttribute("data-kind") !== kind.value) return false;
    var wanted = state.value;
    if (wanted === "attention") return item.getAttribute("data-attention") === "1";
    if (wanted.indexOf("g:") === 0) return item.getAttribute("data-group") === wanted.slice(2);
    if (wanted.indexOf("s:") === 0) return item.getAttribute("data-state") === wanted.slice(2);
    return true;
  }
  function apply() {
    var visible = 0, total = 0;
    each("[data-filter]", function (item) {
      var ok = matches(item);
      item.hidden = !ok;
      if (item.tagName === "TR") { total += 1; if (ok) visible += 1; }
    });
    each("tbody.group", function (group) { group.hidden = !group.querySelector("tr.row:not([hidden])"); });
    each("section.employer", function (section) {
      section.hidden = !section.querySelector("tr.row:not([hidden])");
    });
    each("[data-by-employer]", function (item) {
      item.hidden = employer.value !== "" && item.getAttribute("data-employer") !== employer.value;
    });
    each("figure.chart", function (figure) {
      figure.hidden = figure.getAttribute("data-employer") !== employer.value;
    });
    shown.textContent = visible + " van " + total + " meldingen zichtbaar";
    nothing.hidden = visible > 0 || total === 0;
  }
  [employer, kind, state].forEach(function (select) { select.addEventListener("change", apply); });
  reset.addEventListener("click", function () {
    employer.value = ""; kind.value = ""; state.value = ""; apply();
  });
  bar.hidden = false;
  apply();
})();
"""
)
