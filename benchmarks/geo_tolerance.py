"""How the endpoint's city check treats real and fake places, per shared snapshot: the share
of real listings it refuses (coordinates outside every neighbourhood polygon by more than
geo.TOLERANCE_M; target 0) and the share of random points 5 km or more outside the city it
accepts (target 0), with the distances that set the tolerance.

Usage: python benchmarks/geo_tolerance.py [--data-folder DIR] [--points 2000]
Writes results/geo_tolerance.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import shapely
from common import write
from shapely.geometry import shape

from airbnb_price.core import config, features, geo
from airbnb_price.data import listings

SHARED = config.PROJECT_ROOT.parent / "shared" / "data"


def metres_outside(union, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance of each point to the city's polygons on the sphere (0 inside)."""
    points = shapely.points(np.column_stack([lon, lat]))
    out = np.zeros(len(points))
    for i, point in enumerate(points):
        if not union.contains(point):
            start, end = shapely.shortest_line(union, point).coords
            out[i] = 1000 * features.haversine_km(start[1], start[0], end[1], end[0])
    return out


def far_points(union, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random points within 30 km of the city that lie 5 km or more outside it."""
    west, south, east, north = union.bounds
    pad = 0.3
    lat = rng.uniform(south - pad, north + pad, count * 4)
    lon = rng.uniform(west - pad, east + pad, count * 4)
    far = metres_outside(union, lat, lon) >= 5000
    return lat[far][:count], lon[far][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-folder", type=Path, default=SHARED)
    parser.add_argument("--points", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(config.SEED)
    result: dict = {"tolerance_m": geo.TOLERANCE_M, "snapshots": {}, "far_points": {}}
    for city_dir in sorted(p for p in args.data_folder.iterdir() if p.is_dir()):
        collection = geo.read(city_dir / geo.FILE)
        union = shapely.union_all([shape(f["geometry"]) for f in collection["features"]])
        city = geo.NeighbourhoodMap(collection)
        for path in sorted(city_dir.glob("*/listings.csv*")):
            frame = listings.load_listings(path).data.dropna(subset=["latitude", "longitude"])
            lat, lon = frame["latitude"].to_numpy(), frame["longitude"].to_numpy()
            outside = metres_outside(union, lat, lon)
            refused = sum(name is None for name in city.locate_many(lat, lon))
            result["snapshots"][f"{city_dir.name}/{path.parent.name}/{path.name}"] = {
                "listings": len(frame), "outside_polygons": int((outside > 0).sum()),
                "max_metres_outside": round(float(outside.max()), 1),
                "refused": refused, "refused_share": round(refused / len(frame), 6)}
        lat, lon = far_points(union, args.points, rng)
        accepted = sum(name is not None for name in city.locate_many(lat, lon))
        result["far_points"][city_dir.name] = {"points": len(lat), "accepted": accepted,
                                               "accepted_share": accepted / len(lat)}
    result["targets_met"] = (all(s["refused"] == 0 for s in result["snapshots"].values())
                             and all(f["accepted"] == 0 for f in result["far_points"].values()))
    write("geo_tolerance", result)


if __name__ == "__main__":
    main()
