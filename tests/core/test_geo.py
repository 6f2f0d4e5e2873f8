"""Neighbourhood polygons from the shared neighbourhoods.geojson (22 Amsterdam polygons)."""

from __future__ import annotations

import json

import pytest

from airbnb_price.core import geo


@pytest.fixture(scope="module")
def city(shared_data):
    path = shared_data / "neighbourhoods.geojson"
    return geo.load_map(path.read_bytes(), str(path))


def test_known_places(city):
    assert len(city.names) == 22
    assert city.locate(52.3731, 4.8926) == "Centrum-West"  # Dam Square
    assert city.locate(52.3579, 4.8816) == "Zuid"  # Rijksmuseum
    assert city.locate(52.37, 4.60) is None  # the North Sea off Zandvoort
    assert city.locate(52.0907, 5.1214) is None  # Utrecht


def test_every_training_listing_lies_in_its_own_neighbourhood(city, listings_path):
    """The polygons and the listings' neighbourhood column agree (so deriving is safe)."""
    from airbnb_price.data import listings

    frame = listings.load_listings(listings_path).frame.sample(2000, random_state=0)
    found = [city.locate(lat, lon) for lat, lon in zip(frame.latitude, frame.longitude,
                                                       strict=True)]
    agree = sum(f == n for f, n in zip(found, frame.neighbourhood, strict=True))
    assert agree / len(frame) > 0.99


@pytest.mark.parametrize(("raw", "message"), [
    (b"not json", "is not JSON"),
    (b'{"type": "FeatureCollection", "features": []}', "with features"),
    (json.dumps({"features": [{"properties": {}, "geometry": {"type": "Polygon"}}]}).encode(),
     "feature 0 needs a `neighbourhood` property"),
    (json.dumps({"features": [{"properties": {"neighbourhood": "x"},
                               "geometry": {"type": "Point"}}]}).encode(), "'Point'"),
])
def test_bad_files_are_named(raw, message):
    with pytest.raises(geo.GeometryError, match=message):
        geo.parse(raw, "map.geojson")


def test_empty_placeholder_features_are_left_out():
    """Some of Inside Airbnb's files end with features that have neither a name nor a
    geometry (Albany's has two); the map is the others."""
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    raw = json.dumps({"type": "FeatureCollection", "features": [
        {"properties": {"neighbourhood": "x"}, "geometry": polygon},
        {"properties": {"neighbourhood": None}, "geometry": None}]})
    assert [f["properties"]["neighbourhood"] for f in geo.parse(raw, "m")["features"]] == ["x"]


def test_real_listings_just_outside_the_polygons_get_the_nearest_neighbourhood(city,
                                                                            listings_path):
    """Inside Airbnb moves listings up to 150 m and the polygons stop at the shore: 15 of the
    2021-07-04 listings lie outside every polygon (up to 461 m). Within geo.TOLERANCE_M they
    get the nearest neighbourhood, mostly the one the file names; none is refused."""
    from airbnb_price.data import listings

    frame = listings.load_listings(listings_path).data
    strict = geo.NeighbourhoodMap(geo.read(listings_path.parents[1] / geo.FILE), tolerance_m=0)
    outside = [i for i, name in enumerate(strict.locate_many(frame.latitude, frame.longitude))
               if name is None]
    assert len(outside) == 15
    rows = frame.iloc[outside]
    placed = city.locate_many(rows.latitude, rows.longitude)
    assert None not in placed
    assert sum(p == n for p, n in zip(placed, rows.neighbourhood, strict=True)) >= 12


def test_points_beyond_the_tolerance_are_still_outside(city):
    assert city.locate(52.40, 4.76) is None  # water 1.3 km west of the city
    assert city.tolerance_m == geo.TOLERANCE_M == 1000
