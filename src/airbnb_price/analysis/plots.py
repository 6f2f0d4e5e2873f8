"""The figures people look at in the reports, as functions so notebooks stay thin."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from airbnb_price.core import runfiles
from airbnb_price.core.config import TARGET


def save(fig: plt.Figure, output_dir: Path, name: str, show: bool = True) -> Path:
    """Save a figure as `figures/<name>.png` in the run folder, show that PNG, close the figure.

    Showing the saved file (not relying on the inline backend) keeps figures in the report even
    after ydata-profiling switches matplotlib to Agg, and closing prevents a second copy.
    """
    path = Path(output_dir) / runfiles.figure(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    if show:
        show_saved(output_dir, [name])
    return path


def show_saved(output_dir: Path, names: list[str]) -> list[str]:
    """Display `figures/<name>.png` of a run folder; returns the names that do not exist."""
    from IPython.display import Image, display

    missing = []
    for name in names:
        path = Path(output_dir) / runfiles.figure(name)
        if path.is_file():
            display(Image(filename=str(path)))
        else:
            missing.append(name)
    return missing


def price_distribution(prices: Mapping[str, pd.Series], bins: int = 60) -> plt.Figure:
    """Price histograms, raw and log10, one overlaid series per label (e.g. before/after)."""
    fig, (raw, logged) = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, series in prices.items():
        values = series.dropna()
        raw.hist(values.clip(upper=values.quantile(0.99)), bins=bins, alpha=0.6, label=label)
        logged.hist(np.log10(values[values > 0]), bins=bins, alpha=0.6, label=label)
    raw.set(title="Price per night (clipped at the 99th percentile)", xlabel="EUR", ylabel="listings")
    logged.set(title="log10 price per night", xlabel="log10(EUR)")
    for ax in (raw, logged):
        ax.legend()
    fig.tight_layout()
    return fig


def price_by(frame: pd.DataFrame, column: str, top: int | None = None) -> plt.Figure:
    """Box plot of price per level of `column`, levels sorted by median price."""
    order = frame.groupby(column)[TARGET].median().sort_values(ascending=False).index
    order = list(order[:top] if top else order)
    fig, ax = plt.subplots(figsize=(11, max(2.5, 0.32 * len(order) + 1)))
    ax.boxplot([frame.loc[frame[column] == level, TARGET] for level in order], vert=False,
               labels=order, showfliers=False)
    ax.invert_yaxis()
    ax.set(title=f"Price by {column.replace('_', ' ')} (sorted by median, outliers hidden)",
           xlabel="EUR per night")
    fig.tight_layout()
    return fig


def price_map(frame: pd.DataFrame) -> plt.Figure:
    """Listings on their coordinates, coloured by log price: a map without a basemap."""
    fig, ax = plt.subplots(figsize=(8, 6.5))
    points = ax.scatter(frame["longitude"], frame["latitude"], c=np.log10(frame[TARGET].clip(lower=1)),
                        s=3, cmap="viridis", alpha=0.7)
    fig.colorbar(points, ax=ax, label="log10 price (EUR)")
    ax.set(title="Price over the city", xlabel="longitude", ylabel="latitude")
    ax.set_aspect(1 / np.cos(np.radians(frame["latitude"].mean())))
    fig.tight_layout()
    return fig


def rows_removed(report: pd.DataFrame) -> plt.Figure:
    """Bar chart of rows removed by each cleaning rule."""
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.barh(report["rule"], report["rows_removed"])
    ax.invert_yaxis()
    ax.set(title="Rows removed per cleaning rule", xlabel="rows")
    fig.tight_layout()
    return fig


def median_price_by_snapshot(table: pd.DataFrame, title: str) -> plt.Figure:
    """Grouped horizontal bars of median price per level, one bar per snapshot column
    (drift.median_price_by's table; its change_pct column is left out)."""
    snapshots = [c for c in table.columns if c != "change_pct"]
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(table) * len(snapshots) / 2 + 1)))
    height = 0.8 / len(snapshots)
    positions = np.arange(len(table))
    for i, snapshot in enumerate(snapshots):
        ax.barh(positions + i * height, table[snapshot], height=height, label=str(snapshot))
    ax.set_yticks(positions + height * (len(snapshots) - 1) / 2, table.index)
    ax.invert_yaxis()
    ax.set(title=title, xlabel="median EUR per night")
    ax.legend()
    fig.tight_layout()
    return fig


def choropleth(frame: pd.DataFrame, collection: dict) -> plt.Figure:
    """Median listing price per neighbourhood on its polygons (a GeoJSON FeatureCollection,
    validated by airbnb_price.geo.parse); outer rings are drawn, holes are left out."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    medians = frame.groupby("neighbourhood")[TARGET].median()
    patches, values = [], []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                    else geometry["coordinates"])
        value = medians.get(feature["properties"]["neighbourhood"], np.nan)
        for polygon in polygons:
            patches.append(Polygon(np.asarray(polygon[0])[:, :2], closed=True))
            values.append(value)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    shapes = PatchCollection(patches, cmap="viridis", edgecolor="white", linewidth=0.6)
    shapes.set_array(np.asarray(values))
    ax.add_collection(shapes)
    ax.autoscale_view()
    fig.colorbar(shapes, ax=ax, label="median price (EUR per night)")
    ax.set(title="Median price per neighbourhood", xlabel="longitude", ylabel="latitude")
    ax.set_aspect(1 / np.cos(np.radians(frame["latitude"].mean())))
    fig.tight_layout()
    return fig


def range_coverage(report: Mapping) -> plt.Figure:
    """Share of held-out listings inside their price range (top, against the level asked for)
    and the range's mean width against the naive range's (bottom), by room type,
    neighbourhood and price decile (metrics.json's "range")."""
    groups = {"room type": report["by_room_type"], "neighbourhood": report["by_neighbourhood"],
              "price decile": report["by_price_decile"]}
    fig, axes = plt.subplots(2, 3, figsize=(14, 7), sharey="row", gridspec_kw={
        "width_ratios": [max(3, len(g)) for g in groups.values()]})
    for column, (label, shares) in enumerate(groups.items()):
        decile = label == "price decile"
        names = [name if decile else f"{name} ({g['listings']:,})"  # how many listings
                 for name, g in shares.items()]
        at = np.arange(len(shares))
        top, bottom = axes[0, column], axes[1, column]
        top.bar(at, [g["coverage"] for g in shares.values()])
        top.axhline(report["level"], color="black", linestyle="--", linewidth=1)
        top.set(title=f"By {label}", ylim=(0, 1))
        bottom.bar(at - 0.2, [g["mean_width"] for g in shares.values()], 0.4, label="range")
        bottom.bar(at + 0.2, [g["naive_mean_width"] for g in shares.values()], 0.4,
                   label="naive range", color="lightgrey")
        for ax in (top, bottom):
            ax.set_xticks(at, names, rotation=0 if decile else 60,
                          ha="center" if decile else "right", fontsize=7)
    axes[0, 0].set_ylabel(f"inside the {report['level']:.0%} range")
    axes[1, 0].set_ylabel("mean width")
    axes[1, 2].legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def range_map(rows: pd.DataFrame) -> plt.Figure:
    """Held-out listings on the map: inside their price range (grey), asking less than its
    low end (blue: under-priced for what they are) or more than its high end (red)."""
    fig, ax = plt.subplots(figsize=(7, 6))
    styles = {"inside": ("lightgrey", 6, "inside their range"),
              "below": ("tab:blue", 14, "asking below their range"),
              "above": ("tab:red", 14, "asking above their range")}
    for side, (colour, size, text) in styles.items():
        chosen = rows[rows["side"] == side]
        ax.scatter(chosen["longitude"], chosen["latitude"], s=size, c=colour,
                   label=f"{text} ({len(chosen):,})")
    ax.set(title="Held-out listings against their price range", xlabel="longitude",
           ylabel="latitude", aspect=1 / np.cos(np.radians(rows["latitude"].mean())))
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig
