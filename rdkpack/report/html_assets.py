"""The HTML report's one stylesheet and one script, inlined in the page and allowed by their sha256 hashes.

Both are constants, never built from data: their hashes are the page's whole Content-Security-Policy
allowance, so a resource id or annotation cannot add style or script. The script only toggles `hidden`
on rows and writes counts with textContent; it never parses HTML.
"""

from __future__ import annotations

CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--na:#c5ccd4;--err:#8250df;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;
--soft:#f6f8fa;color-scheme:light}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;color:var(--ink);
margin:0;background:#fff}
main{max-width:1240px;margin:0 auto;padding:24px 32px 48px}
header{border-bottom:1px solid var(--line);padding-bottom:12px;margin-bottom:20px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:20px 0 8px}
.meta{color:var(--muted);margin:0}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.86em}
nav{margin:10px 0 0;display:flex;gap:16px;flex-wrap:wrap}
nav a{color:#0969da;text-decoration:none}
nav a:hover{text-decoration:underline}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:12px;margin:0 0 20px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:var(--soft)}
.card .label{color:var(--muted);font-size:.85rem}
.card .value{font-size:1.7rem;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.card .note{color:var(--muted);font-size:.8rem}
.card.bad{border-left:5px solid var(--bad)}.card.ok{border-left:5px solid var(--ok)}
.card.err{border-left:5px solid var(--err)}.card.cost{border-left:5px solid #bf8700}
figure{margin:0 0 20px;padding:16px;border:1px solid var(--line);border-radius:8px}
figcaption{font-weight:600;margin-bottom:8px}
svg.chart{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:0 0 12px;padding:0;list-style:none;font-size:.9rem}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.sw.COMPLIANT{background:var(--ok)}.sw.NON_COMPLIANT{background:var(--bad)}
.sw.NOT_APPLICABLE{background:var(--na)}.sw.ERROR{background:var(--err)}
table{border-collapse:collapse;width:100%;margin:0 0 16px;font-size:.88rem}
caption{text-align:left;color:var(--muted);padding:0 0 6px;caption-side:top}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:baseline}
thead th{background:var(--soft);position:sticky;top:0;z-index:1;border-bottom:2px solid var(--line);
white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td,tfoot th{font-weight:650;border-top:2px solid var(--line)}
tbody tr:hover{background:#f3f6fa}
table.results,table.runs{table-layout:fixed}
table.results td,table.runs td{overflow-wrap:anywhere}
col.c-target{width:9.5em}col.c-resource{width:20%}col.c-rule{width:23em}col.c-verdict{width:10.5em}
col.c-document{width:17em}col.c-status{width:7.5em}
table.summary{width:auto;min-width:70%}table.summary td.num{padding-left:28px}
td.COMPLIANT,td.NON_COMPLIANT,td.NOT_APPLICABLE,td.ERROR,td.CHANGED,td.NO_CHANGE,td.FAILED,
td.zero{font-weight:600;font-size:.8rem;letter-spacing:.01em}
td.COMPLIANT,td.CHANGED{color:#116329;background:#dafbe1}
td.NON_COMPLIANT,td.FAILED{color:#a40e26;background:#ffebe9}
td.NOT_APPLICABLE,td.NO_CHANGE{color:var(--muted);background:#eff2f5}
td.ERROR{color:#6639ba;background:#fbefff}
td.num.hot{color:#a40e26;font-weight:650}td.num.zero{color:#8c959f;font-weight:400;font-size:inherit}
tr.unscanned td{color:#6639ba}
.filters{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:end;padding:12px 14px;margin:0 0 12px;
background:var(--soft);border:1px solid var(--line);border-radius:8px;position:sticky;top:0;z-index:2}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:3px}
.filters input[type=search]{min-width:20em}
.filters select,.filters input{font:inherit;font-size:.9rem;padding:4px 6px;border:1px solid #afb8c1;
border-radius:6px;background:#fff;color:var(--ink);min-width:12em}
.filters button{font:inherit;font-size:.85rem;padding:5px 12px;border:1px solid #afb8c1;border-radius:6px;
background:#fff;cursor:pointer}
.shown{font-weight:600;margin:0 0 8px}
.empty{color:var(--muted);font-style:italic}
ul.notes{margin:0 0 16px;padding-left:20px}
footer{margin-top:40px;color:var(--muted);font-size:.8rem}
@media (max-width:720px){main{padding:16px}col.c-rule{width:10em}}
@page{margin:12mm}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:9.5pt}
main{max-width:none;padding:0}
.filters,nav{display:none!important}
thead th{position:static}
thead{display:table-header-group}
tr,.card,figure,svg{break-inside:avoid;page-break-inside:avoid}
h2,h3{break-after:avoid;page-break-after:avoid}
tbody tr:hover{background:none}
figure{border:0;padding:0}
}
""".strip()

JS = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var tables = Array.prototype.slice.call(document.querySelectorAll("table[data-filterable]"));
  if (!form || !shown) { document.body.dataset.ready = "true"; return; }
  function apply() {
    var verdict = form.elements.verdict.value, rule = form.elements.rule.value;
    var text = form.elements.q.value.trim().toLowerCase();
    var all = 0, visible = 0;
    tables.forEach(function (table) {
      var rows = table.querySelectorAll("tbody tr[data-verdict]"), n = 0;
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i];
        var keep = (!verdict || row.getAttribute("data-verdict") === verdict) &&
          (!rule || row.getAttribute("data-rule") === rule) &&
          (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
        row.hidden = !keep;
        if (keep) { n++; }
      }
      all += rows.length;
      visible += n;
      var count = table.querySelector("caption .count");
      if (count) {
        count.textContent = n === rows.length ? rows.length + " results" : n + " of " + rows.length + " results shown";
      }
    });
    var chosen = [verdict, rule, text && "\\u201c" + text + "\\u201d"].filter(Boolean);
    shown.textContent = "Showing " + visible + " of " + all + " results" +
      (chosen.length ? " (" + chosen.join(", ") + ")" : "");
    shown.dataset.shown = String(visible);
    shown.dataset.total = String(all);
  }
  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.hidden = false;
  apply();
  document.body.dataset.ready = "true";
})();
""".strip()
