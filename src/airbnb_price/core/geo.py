"""Neighbourhood polygons (Inside Airbnb's `neighbourhoods.geojson`): which neighbourhood a
coordinate lies in, for the endpoint's check and for deriving a missing `neighbourhood`.

Geometry is shapely's (a maintained library; no hand-written point-in-polygon). shapely is
imported when a map is built, at model load, not when this module is imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from airbnb_price.core.features import haversine_km

#: The file name beside a model (and in the registry) when the model carries its city's map.
FILE = "neighbourhoods.geojson"


class GeometryError(ValueError):
    """A neighbourhoods file that is not usable GeoJSON; the message names file and problem."""


def _empty(feature: dict) -> bool:
    """A placeholder feature with neither a name nor a geometry (some of Inside Airbnb's
    files end with them, e.g. Albany's)."""
    return not (feature.get("properties") or {}).get("neighbourhood") and not feature.get(
        "geometry")


def parse(raw: bytes | str, origin: str) -> dict:
    """Validate a GeoJSON FeatureCollection of (Multi)Polygons named by `neighbourhood`;
    empty placeholder features are left out."""
    try:
        collection = json.loads(raw)
    except ValueError as exc:
        raise GeometryError(f"{origin} is not JSON: {exc}") from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    features = [f for f in features or [] if isinstance(f, dict) and not _empty(f)]
    if not features:
        raise GeometryError(f"{origin} is not a GeoJSON FeatureCollection with features")
    collection = collection | {"features": features}
    for index, feature in enumerate(features):
        name = (feature.get("properties") or {}).get("neighbourhood")
        kind = (feature.get("geometry") or {}).get("type")
        if not name or kind not in ("Polygon", "MultiPolygon"):
            raise GeometryError(f"{origin}: feature {index} needs a `neighbourhood` property and "
                                f"a Polygon/MultiPolygon geometry (has {name!r}, {kind!r})")
    return collection


def read(path: str | os.PathLike) -> dict:
    """A neighbourhoods file, parsed and validated."""
    return parse(Path(path).read_bytes(), str(path))


#: How far outside every polygon a point may lie and still be placed in the nearest
#: neighbourhood. Inside Airbnb moves each listing up to 150 m to anonymise it and the
#: polygons stop at the shore, so real listings fall outside them: the furthest measured was
#: 461 m (Amsterdam 2021-07-04, 15 of 16,724 outside; benchmarks/geo_tolerance.py). 1 km keeps
#: twice that margin and still refuses a point 5 km or more from the city.
TOLERANCE_M = 1000.0
#: Metres per degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320.0


class NeighbourhoodMap:
    """Polygons in an STRtree; `locate` answers in microseconds."""

    def __init__(self, collection: dict, tolerance_m: float = TOLERANCE_M):
        import shapely
        from shapely import STRtree
        from shapely.geometry import shape

        features = collection["features"]
        self.names = [f["properties"]["neighbourhood"] for f in features]
        self._polygons = [shape(f["geometry"]) for f in features]
        self._tree = STRtree(self._polygons)
        self._prepared = np.array(self._polygons, dtype=object)
        shapely.prepare(self._prepared)
        self.tolerance_m = tolerance_m

    def locate(self, latitude: float, longitude: float) -> str | None:
        """The neighbourhood containing the point, or None outside every polygon."""
        return self.locate_many([latitude], [longitude])[0]

    def locate_many(self, latitudes: Sequence[float],
                    longitudes: Sequence[float]) -> list[str | None]:
        """`locate` for many points in one tree query (a batch request costs one call)."""
        import shapely

        if not len(latitudes):
            return []
        x, y = np.asarray(longitudes, dtype=float), np.asarray(latitudes, dtype=float)
        points = shapely.points(np.column_stack([x, y]))
        # candidates by bounding box, then the exact test on prepared polygons: ~35x faster
        # than the tree's "within" predicate on detailed city maps
        point_index, polygon_index = self._tree.query(points)
        inside = shapely.contains_xy(self._prepared[polygon_index], x[point_index],
                                     y[point_index])
        found: list[str | None] = [None] * len(points)
        pairs = zip(point_index[inside], polygon_index[inside], strict=True)
        for point, polygon in sorted(pairs, reverse=True):
            found[point] = self.names[polygon]  # on shared borders the first polygon wins
        outside = [i for i, name in enumerate(found) if name is None]
        if outside and self.tolerance_m > 0:
            for i, name in zip(outside, self._nearest(points[outside]), strict=True):
                found[i] = name
        return found

    def _nearest(self, points: Any) -> list[str | None]:
        """The nearest neighbourhood of each point when it lies within `tolerance_m` of it
        (measured on the sphere), else None."""
        import shapely

        lat = max(abs(float(p.y)) for p in points)
        reach = self.tolerance_m / (METRES_PER_DEGREE * max(np.cos(np.radians(lat)), 0.01))
        point_index, polygon_index = self._tree.query_nearest(points, max_distance=reach)
        nearest: list[str | None] = [None] * len(points)
        for point, polygon in zip(point_index, polygon_index, strict=True):
            if nearest[point] is not None:
                continue
            start, end = shapely.shortest_line(self._polygons[polygon], points[point]).coords
            metres = 1000 * haversine_km(start[1], start[0], end[1], end[0])  # x, y[, z]
            if metres <= self.tolerance_m:
                nearest[point] = self.names[polygon]
        return nearest


def load_map(raw: Any, origin: str) -> NeighbourhoodMap:
    return NeighbourhoodMap(parse(raw, origin))


def coverage(collection: dict, latitudes: Sequence[float], longitudes: Sequence[float]) -> float:
    """The share of the points that lie in one of the polygons: how a map is matched to a
    city's listings (a map of another city covers none of them)."""
    found = NeighbourhoodMap(collection).locate_many(list(latitudes), list(longitudes))
    return sum(name is not None for name in found) / len(found) if found else 0.0
