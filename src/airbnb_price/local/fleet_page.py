"""The fleet's HTML page: one row per city against its baselines, and the error figure that
puts cities in different currencies on one scale."""

from __future__ import annotations

import html
from pathlib import Path

from airbnb_price.core import runfiles
from airbnb_price.local.reports import range_sentence

FLEET_FIGURE = "fleet_mae.png"


def fleet_figure(rows: list[dict], dest: Path) -> Path | None:
    """Hold-out MAE as a share of the median price, per city, for the AutoML model, the
    plain LightGBM and the naive median: cities in different currencies on one scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.get("holdout") and r.get("median_price")]
    if not scored:
        return None
    models = ("automl", "lightgbm", "naive")
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(scored) + 1.5))
    height = 0.8 / len(models)
    for i, model in enumerate(models):
        shares = [r["holdout"].get(model, {}).get("mae", float("nan")) / r["median_price"]
                  for r in scored]
        ax.barh([k + i * height for k in range(len(scored))], shares, height, label=model)
    ax.set_yticks([k + height for k in range(len(scored))], [r["label"] for r in scored])
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("hold-out MAE / median price")
    ax.legend(loc="lower right")
    ax.set_title("Pricing error per city (lower is better)")
    fig.tight_layout()
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    return dest


def _score(row: dict, model: str, metric: str) -> str:
    value = (row.get("holdout") or {}).get(model, {}).get(metric)
    return "" if value is None else f"{value:,.2f}" if metric == "mae" else f"{value:.3f}"


def write_fleet_index(fleet_dir: Path, record: dict) -> Path:
    """index.html of a fleet: one row per city (snapshot, listings, median price, hold-out
    MAE and R^2 of the AutoML model against the plain LightGBM and the naive median, status,
    link to the city's own report) and the error figure."""
    rows = []
    for row in record["cities"]:
        e = html.escape
        name = (f'<a href="{e(row["report"])}">{e(row["label"])}</a>' if row.get("report")
                else e(row["label"]))
        status = e(row["status"]) + (f'<br><small>{e(str(row["error"]))[:300]}</small>'
                                     if row.get("error") else "")
        median = (f"{row['median_price']:,.2f} {e(str(row.get('currency')))}"
                  if row.get("median_price") is not None else "")
        scores = "".join(f"<td>{_score(row, m, k)}</td>" for k in ("mae", "r2")
                         for m in ("automl", "lightgbm", "naive"))
        spread = e(range_sentence(row.get("range"), str(row.get("currency") or "")))
        rows.append(f"<tr><td>{name}</td><td>{e(str(row.get('snapshot') or ''))}</td>"
                    f"<td>{row.get('listings', '') or ''}</td><td>{median}</td>{scores}"
                    f"<td>{spread}</td><td>{status}</td></tr>")
    figure = fleet_figure(record["cities"], fleet_dir / FLEET_FIGURE)
    image = f'<img src="{FLEET_FIGURE}" alt="MAE as a share of median price per city">' \
        if figure else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>airbnb-price fleet {html.escape(record['fleet_id'])}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}td,th{{padding:.3em .6em;
text-align:right}}td:first-child,th:first-child,td:last-child{{text-align:left}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#f4f4f4}}</style>
</head><body><h1>Fleet {html.escape(record['fleet_id'])}: {html.escape(record['status'])}</h1>
<p>{len(record['cities'])} cities, feature set {html.escape(record['feature_set'])}
{'(smoke sizes)' if record.get('smoke') else ''}; hold-out scores in each city's currency.
{html.escape(record.get('cluster', ''))}</p>
<table><tr><th rowspan="2">city</th><th rowspan="2">snapshot</th><th rowspan="2">listings</th>
<th rowspan="2">median price</th><th colspan="3">MAE</th><th colspan="3">R&sup2;</th>
<th rowspan="2">price range</th><th rowspan="2">status</th></tr>
<tr><th>AutoML</th><th>LightGBM</th><th>naive</th><th>AutoML</th><th>LightGBM</th><th>naive</th>
</tr>{''.join(rows)}</table>{image}
<p>Data and scores: <a href="fleet.json">fleet.json</a></p></body></html>"""
    path = fleet_dir / runfiles.INDEX
    path.write_text(page, encoding="utf-8")
    return path
