"""The run's HTML pages: each executed notebook as a no-code report, and the run's index."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from airbnb_price.core import cities, runfiles

#: What a progress bar writes (tqdm and ydata-profiling's bars) between carriage returns:
#: "42%|", "it/s]". Such stderr output is dropped from reports; other stderr is kept in
#: logs.log.
_PROGRESS = re.compile(r"\d+%\||it/s\]|s/it\]")


def strip_stderr(notebook, log: Path | None = None) -> int:
    """Remove stderr output from an executed notebook (in memory) before it becomes a report:
    progress bars are dropped, anything else (real warnings) is appended to `log` with the
    notebook and cell it came from. Returns how many outputs were removed."""
    removed, kept = 0, []
    for index, cell in enumerate(notebook.cells):
        outputs = cell.get("outputs", [])
        stderr = [o for o in outputs
                  if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        if not stderr:
            continue
        cell["outputs"] = [o for o in outputs if o not in stderr]
        removed += len(stderr)
        lines = re.split(r"[\r\n]", "".join(o.get("text", "") for o in stderr))
        warnings = [line for line in lines if line.strip() and not _PROGRESS.search(line)]
        if warnings:
            source = notebook.metadata.get("papermill", {}).get("input_path", "notebook")
            kept.append(f"[{source} cell {index}]\n" + "\n".join(warnings) + "\n")
    if kept and log is not None:
        with open(log, "a", encoding="utf-8") as handle:
            handle.writelines(kept)
    return removed


#: A relative link in an output (not a URL, an absolute path or an in-page anchor).
_RELATIVE_HREF = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)')


def one_folder_down(notebook) -> None:
    """Prefix the relative links of the notebook's HTML outputs with `../`: they point from
    the executed notebook's folder, and its report sits one folder below, in reports/."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html")
            if page:
                text = "".join(page) if isinstance(page, list) else page
                output["data"]["text/html"] = _RELATIVE_HREF.sub('href="../', text)


def render_report(notebook: Path, dest: Path, log: Path | None = None) -> Path:
    """Render an executed notebook as a stakeholder HTML page: outputs only, no code, no
    stderr (progress bars dropped, warnings moved to `log`), links that resolve from
    reports/."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    executed = nbformat.read(notebook, as_version=4)
    strip_stderr(executed, log)
    one_folder_down(executed)
    body, _ = exporter.from_notebook_node(executed)
    dest.write_text(body, encoding="utf-8")
    return dest


#: The figures the run's page shows as thumbnails, when the run made them.
KEY_FIGURES = ("price_choropleth", "price_distribution", "shap_bar", "pycaret_prediction_error")


def _read(run_dir: Path, name: str) -> dict:
    path = run_dir / name
    return json.loads(path.read_text()) if path.is_file() else {}


def range_sentence(report: dict | None, currency: str) -> str:
    """The price range in one sentence (metrics.json's "range"), for the run's page and the
    fleet page: "8 in 10 listings fall inside their 80% range; a typical range is 95-160 EUR"."""
    if not report:
        return ""
    low, high = report["typical"]
    return (f"{round(report['coverage'] * 10)} in 10 held-out listings fall inside their "
            f"{report['level']:.0%} price range; a typical range is {low:,.0f}-{high:,.0f} "
            f"{currency}")  # whole units: a range is no place for cents


def _answer(run_dir: Path, record: dict) -> str:
    """The page's first paragraph: the hold-out scores against both baselines and what a
    typical listing costs."""
    e = html.escape
    metrics, parts = _read(run_dir, runfiles.METRICS), []
    currency = e(str(metrics.get("currency") or (record.get("price_window") or {}).get(
        "currency", "")))
    if metrics:
        auto, plain = metrics["automl"], metrics["baseline_lightgbm"]
        naive = metrics.get("naive_median")
        parts.append(
            f"On {metrics['holdout_rows']:,} held-out listings the model's prices are off by "
            f"<b>{auto['mae']:,.2f} {currency}</b> on average (MAE; R&sup2; {auto['r2']:.3f}), "
            f"against {plain['mae']:,.2f} (R&sup2; {plain['r2']:.3f}) for a plain LightGBM"
            + (f" and {naive['mae']:,.2f} (R&sup2; {naive['r2']:.3f}) for the median price of "
               "the listing's neighbourhood and room type" if naive else "") + ".")
        if metrics.get("range"):
            parts.append(e(range_sentence(metrics["range"], currency)) + ".")
    deployed, example = _read(run_dir, runfiles.DEPLOY), _read(run_dir, runfiles.EXAMPLE)
    answer = ((deployed.get("response") or {}).get("predictions") or [{}])[0]
    if example and "price" in answer:
        parts.append(f"A typical listing ({e(str(example.get('room_type', '')))} in "
                     f"{e(str(example.get('neighbourhood') or 'its neighbourhood'))}) is priced "
                     f"at <b>{cities.money(answer['price'], currency)}</b> a night by the "
                     "endpoint.")
    return " ".join(parts) or "This run made no model (see the reports below)."


def outside_range(metrics: dict, currency: str) -> str:
    """The held-out listings asking furthest below and above their own price range (what
    AirRent acts on): room link, asking price, range and the three biggest drivers."""
    e = html.escape
    outside = (metrics.get("range") or {}).get("outside") or {}
    parts = []
    for side, title in (("below", "Asking furthest below their range"),
                        ("above", "Asking furthest above their range")):
        rows = "".join(
            f"<tr><td>{_room(item)}</td><td>{e(item['room_type'])}, "
            f"{e(item['neighbourhood'])}</td><td>{cities.money(item['asking'], currency)}</td>"
            f"<td>{item['low']:,.0f}-{item['high']:,.0f}</td>"
            f"<td>{e('; '.join(item['drivers']))}</td></tr>" for item in outside.get(side, []))
        if rows:
            parts.append(f"<h3>{title}</h3><table><tr><th>listing</th><th>what</th>"
                         f"<th>asking</th><th>range</th><th>drivers of its price</th></tr>"
                         f"{rows}</table>")
    return "".join(parts) or "<p>no held-out listing outside its range in this run</p>"


def _room(item: dict) -> str:
    if not item.get("url"):
        return "(no id)"
    return f'<a href="{html.escape(item["url"])}">{html.escape(str(item["id"]))}</a>'


def write_index(run_dir: Path, record: dict) -> Path:
    """index.html, the page a stakeholder reads first: the answer (hold-out scores against a
    plain LightGBM and the naive median, a typical listing's price), the five biggest price
    drivers, the model and the data it was trained on, thumbnails of the key figures, then a
    link to every report and artifact of the run."""
    e = html.escape
    data = record.get("data") or {}
    drivers = _read(run_dir, runfiles.DRIVERS).get("drivers", [])
    currency = e(str((record.get("price_window") or {}).get("currency", "")))
    driver_items = "".join(f"<li>{e(d.get('label') or d['feature'])}: moves a price by "
                           f"{d['mean_abs']:,.2f} "
                           f"{currency} on average</li>" for d in drivers) \
        or "<li>not explained in this run</li>"
    deployed = _read(run_dir, runfiles.DEPLOY)
    version = (f"{deployed['model_version']} ({deployed.get('mode', '')})"
               if deployed.get("model_version") else "not published (the model is in model/)")
    thumbs = "".join(
        f'<a href="{runfiles.figure(name)}"><img src="{runfiles.figure(name)}" alt="{name}" '
        f'height="220"></a>' for name in KEY_FIGURES if (run_dir / runfiles.figure(name)).is_file())
    range_map = (f'<p><a href="{runfiles.figure(runfiles.RANGE_MAP)}"><img src="'
                 f'{runfiles.figure(runfiles.RANGE_MAP)}" alt="held-out listings against their '
                 'price range" height="320"></a></p>'
                 if (run_dir / runfiles.figure(runfiles.RANGE_MAP)).is_file() else "")
    rows = []
    for nb in record["notebooks"]:
        link = (f'<a href="{e(nb["report"])}">{e(nb["name"])}</a>' if nb.get("report")
                else e(nb["name"]))
        rows.append(f"<tr><td>{link}</td><td>{e(nb['status'])}</td>"
                    f"<td>{nb.get('seconds', '')}</td></tr>")
    reports = {nb.get("report") for nb in record["notebooks"]}
    extras = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")
                    if p.suffix in (".html", ".json") and p.parent == run_dir
                    and p.name != runfiles.INDEX and p.name not in reports)
    extra_items = "".join(f'<li><a href="{e(x)}">{e(x)}</a></li>' for x in extras)
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>airbnb-price run {e(record['run_id'])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}
td,th{{padding:.3em 1em}}img{{margin:.3em;border:1px solid #ddd}}</style>
</head><body><h1>{e(str(record.get('model', 'airbnb-price')))}: run {e(record['run_id'])}
({e(record['status'])})</h1>
<p>{_answer(run_dir, record)}</p>
<h2>What moves the price most</h2><ol>{driver_items}</ol>
<h2>Listings priced outside their range</h2>
{outside_range(_read(run_dir, runfiles.METRICS), currency)}{range_map}
<h2>Model and data</h2><ul>
<li>Model <code>{e(str(record.get('model', '')))}</code>, version {e(str(version))}</li>
<li>Data: {e(str(data.get('path', '')))}, snapshot {e(str(data.get('snapshot', '')))},
{data.get('rows', '?'):,} rows, sha256 <code>{e(str(data.get('sha256', ''))[:16])}</code></li>
</ul>
<h2>Key figures</h2><p>{thumbs or 'none in this run'}</p>
<h2>Reports</h2>
<table><tr><th>report</th><th>status</th><th>seconds</th></tr>{''.join(rows)}</table>
<h2>Other artifacts</h2><ul>{extra_items}</ul></body></html>"""
    path = run_dir / runfiles.INDEX
    path.write_text(page, encoding="utf-8")
    return path
