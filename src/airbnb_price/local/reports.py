"""The run's HTML pages: each executed notebook as a no-code report, and the run's index."""

from __future__ import annotations

import html
from pathlib import Path


def render_report(notebook: Path, dest: Path) -> Path:
    """Render an executed notebook as a stakeholder HTML page: outputs only, no code."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    dest.write_text(body, encoding="utf-8")
    return dest


def write_index(run_dir: Path, record: dict) -> Path:
    """index.html: one link per notebook report plus every other HTML artifact of the run."""
    rows = []
    for nb in record["notebooks"]:
        link = (f'<a href="{html.escape(nb["report"])}">{html.escape(nb["name"])}</a>'
                if nb.get("report") else html.escape(nb["name"]))
        rows.append(f"<tr><td>{link}</td><td>{html.escape(nb['status'])}</td>"
                    f"<td>{nb.get('seconds', '')}</td></tr>")
    reports = {nb.get("report") for nb in record["notebooks"]}
    extras = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*.html")
                    if p.name != "index.html" and p.relative_to(run_dir).as_posix() not in reports)
    extra_items = "".join(f'<li><a href="{html.escape(e)}">{html.escape(e)}</a></li>'
                          for e in extras)
    data = record.get("data") or {}
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>airbnb-price run {html.escape(record['run_id'])}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}td,th{{padding:.3em 1em}}</style>
</head><body><h1>Run {html.escape(record['run_id'])}: {html.escape(record['status'])}</h1>
<p>Data: {html.escape(str(data.get('path', '')))} ({data.get('rows', '?')} rows,
sha256 <code>{html.escape(str(data.get('sha256', ''))[:12])}</code>)</p>
<table><tr><th>report</th><th>status</th><th>seconds</th></tr>{''.join(rows)}</table>
<h2>Other artifacts</h2><ul>{extra_items}</ul></body></html>"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
