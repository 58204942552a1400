"""`index.html`: one self-contained static page (no CDN, no external request).

The table is rendered in HTML (readable without JavaScript); a few lines of inline JavaScript
sort it when a header is clicked (numbers numerically via `data-v`, missing values last) and
filter it by model name. `#sort=COLUMN:asc|desc` in the URL sorts on load, so a sorted view can
be linked. The plot is embedded as a base64 PNG.
"""

from __future__ import annotations

import base64
import html
import math
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from .build import LeaderboardBuild

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2733;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#5a6b7d;margin-top:0}
.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:.5rem 1rem;margin:1rem 0}
.warn li{margin:.2rem 0}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e8ee;text-align:right;white-space:nowrap}
th{background:#f3f6f9;cursor:pointer;user-select:none;position:sticky;top:0}
th.sorted-asc::after{content:" \\25B2"} th.sorted-desc::after{content:" \\25BC"}
td.l,th.l{text-align:left} tr:hover td{background:#f7fbff}
td.partial{background:#fff1d6;color:#8a5a00;font-weight:600} .partial-note{color:#8a5a00}
.wrap{overflow-x:auto;max-height:80vh} img{max-width:100%;margin:1rem 0}
#filter{padding:.3rem .5rem;margin:.5rem 0;width:20rem}
footer{color:#5a6b7d;font-size:.8rem;margin-top:2rem}
"""

_JS = """
(function(){
  var table=document.getElementById('lb'), body=table.tBodies[0], heads=table.tHead.rows[0].cells;
  function key(td,num){var v=td.getAttribute('data-v');
    if(num){return v===''||v===null?null:parseFloat(v);} return td.textContent;}
  function sortBy(col,dir){
    var num=heads[col].getAttribute('data-type')==='num';
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[col],num),y=key(b.cells[col],num);
      if(x===null&&y===null)return 0; if(x===null)return 1; if(y===null)return -1;
      var c=num?(x-y):x.localeCompare(y); return dir==='desc'?-c:c;});
    rows.forEach(function(r){body.appendChild(r);});
    for(var i=0;i<heads.length;i++){heads[i].classList.remove('sorted-asc','sorted-desc');}
    heads[col].classList.add('sorted-'+dir);
    table.setAttribute('data-sorted',heads[col].getAttribute('data-col')+':'+dir);
  }
  for(var i=0;i<heads.length;i++){(function(i){heads[i].addEventListener('click',function(){
    var cur=heads[i].classList.contains('sorted-asc')?'asc':(heads[i].classList.contains('sorted-desc')?'desc':null);
    var num=heads[i].getAttribute('data-type')==='num';
    sortBy(i,cur===null?(num&&heads[i].getAttribute('data-col')!=='rank'?'desc':'asc'):(cur==='asc'?'desc':'asc'));});})(i);}
  var m=/sort=([^:&]+):?(asc|desc)?/.exec(decodeURIComponent(location.hash));
  if(m){for(var j=0;j<heads.length;j++){if(heads[j].getAttribute('data-col')===m[1]){sortBy(j,m[2]||'asc');}}}
  var f=document.getElementById('filter');
  f.addEventListener('input',function(){var q=f.value.toLowerCase();
    Array.prototype.forEach.call(body.rows,function(r){
      r.style.display=r.cells[1].textContent.toLowerCase().indexOf(q)>=0?'':'none';});});
  document.body.setAttribute('data-ready','1');
})();
"""


def _cell(v: Any, col: str, n_tasks: int = 0) -> tuple[str, str]:
    """(data-v, text) for one value."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "", "–"
    if col == "coverage":
        return repr(v), f"{100 * v:.1f}%"
    if col == "tasks_measured" and n_tasks:
        return str(v), f"{v} / {n_tasks}"
    if isinstance(v, float):
        return repr(v), f"{v:.3f}"
    return str(v), str(v)


def html_page(build: LeaderboardBuild, png: bytes) -> str:
    from .. import __version__

    spec, t = build.spec, build.table
    cols = t.column_names
    numeric = {c: not pa.types.is_string(t.schema.field(c).type) for c in cols}
    labels = {"ci_low": "CI low", "ci_high": "CI high", "rank_ci_low": "rank CI low", "rank_ci_high": "rank CI high",
              "samples_measured": "samples", "samples_selected": "selected", "tasks_measured": "tasks",
              "n_comparisons": "comparisons"}
    e = html.escape
    def label(c: str) -> str:
        if c.startswith("task:"):
            return c.removeprefix("task:")
        if c.startswith("rank:"):
            return c.removeprefix("rank:") + " rank"
        return labels.get(c, c)

    head = "".join(
        '<th data-col="{c}" data-type="{t}"{cls} title="{c}">{lab}</th>'.format(
            c=e(c), t="num" if numeric[c] else "text", cls="" if numeric[c] else ' class="l"', lab=e(label(c)))
        for c in cols
    )
    body_rows = []
    data = t.to_pydict()
    n_tasks = len(build.coverage_tasks)
    partial = [(c is not None and c < 1.0) for c in data.get("coverage", [None] * t.num_rows)]
    for i in range(t.num_rows):
        cells = []
        for c in cols:
            dv, text = _cell(data[c][i], c, n_tasks)
            cls = "" if numeric[c] else ' class="l"'
            if partial[i] and c in ("coverage", "tasks_measured"):
                cls = ' class="partial" title="measured on only part of the selection"'
            cells.append(f'<td{cls} data-v="{e(dv)}">{e(text)}</td>')
        row_cls = ' class="partial-row"' if partial[i] else ""
        body_rows.append(f"<tr{row_cls}>" + "".join(cells) + "</tr>")
    n_partial = sum(partial)
    coverage_line = (f'<p class="partial-note">{n_partial} of {t.num_rows} models were measured on only part of the '
                     "selection (highlighted): missing samples are not losses, and their ranks rest on fewer "
                     "comparisons.</p>\n" if n_partial else
                     "<p>Every ranked model was measured on every selected sample.</p>\n")
    warnings = ""
    if build.warnings:
        warnings = '<div class="warn"><strong>Read with care</strong><ul>' + "".join(
            f"<li>{e(w)}</li>" for w in build.warnings) + "</ul></div>"
    img = base64.b64encode(png).decode("ascii")
    r = build.ranking
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(spec.title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{e(spec.title)}</h1><p class=\"sub\">{e(spec.description)}</p>\n"
        f"<p>{t.num_rows} models ranked by <strong>{e(r.method)}</strong> from {build.n_measurements:,} "
        f"sample-level measurements over {len(build.coverage_tasks)} tasks. Click a column to sort.</p>\n"
        f"{coverage_line}{warnings}\n"
        f'<input id="filter" type="search" placeholder="filter models" aria-label="filter models">\n'
        f'<div class="wrap"><table id="lb" data-rows="{t.num_rows}"><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body_rows)
        + "\n</tbody></table></div>\n"
        f'<img id="plot" alt="scores with confidence intervals and measured cells" src="data:image/png;base64,{img}">\n'
        f"<footer>samplebench {e(__version__)} · spec sha256 {e(build.spec_hash[:16])} · "
        f"{len(build.run_ids)} run(s)</footer>\n"
        f"<script>{_JS}</script>\n</body></html>\n"
    )
