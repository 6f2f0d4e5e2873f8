from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from examples import CENTRE

from airbnb_price.core import features, text_features

DAM = (52.373056, 4.892778)


def test_unit_sphere_known_points():
    x, y, z = features.unit_sphere([0, 0, 90], [0, 90, 0])
    np.testing.assert_allclose(x, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(y, [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(z, [0, 0, 1], atol=1e-12)


def test_trig_uses_radians_not_degrees():
    x, _y, z = features.unit_sphere(52.37, 4.89)
    assert x == pytest.approx(math.cos(math.radians(52.37)) * math.cos(math.radians(4.89)))
    assert float(x) == pytest.approx(0.60834, abs=1e-5)
    assert float(z) == pytest.approx(0.79197, abs=1e-5)
    # The article's bug: cos(52.37)*cos(4.89) on degrees read as radians is about -0.09, not 0.61.
    assert not math.isclose(float(x), math.cos(52.37) * math.cos(4.89), abs_tol=0.1)


def test_haversine_known_distances():
    assert features.haversine_km(*DAM, *DAM) == pytest.approx(0.0)
    # Dam Square -> Amsterdam Centraal: 672 m north, 511 m east on a flat map -> 0.844 km
    assert features.haversine_km(*DAM, 52.3791, 4.9003) == pytest.approx(0.844, abs=0.005)
    # Amsterdam -> Paris (Notre-Dame), about 430 km
    assert features.haversine_km(*DAM, 48.853, 2.3499) == pytest.approx(430, rel=0.01)


def test_same_function_for_frame_and_dict():
    frame = pd.DataFrame({"latitude": [52.36, 52.40], "longitude": [4.88, 4.95]})
    as_frame = features.add_geo_features(frame.copy(), CENTRE)
    as_dict = features.add_geo_features({"latitude": np.array([52.36, 52.40]),
                                         "longitude": np.array([4.88, 4.95])}, CENTRE)
    for column in features.GEO_FEATURES:
        np.testing.assert_array_equal(as_frame[column].to_numpy(), as_dict[column])
    assert as_dict["distance_to_centre_km"][0] == pytest.approx(1.691, abs=0.005)


def test_feature_table_columns():
    frame = pd.DataFrame({c: [1.0] for c in features.NUMERIC_INPUTS}
                         | {"neighbourhood": ["Centrum-West"], "room_type": ["Private room"],
                            "price": [100.0], "id": [7], "name": ["Loft"]})
    frame["latitude"], frame["longitude"] = 52.37, 4.89
    table = features.feature_table(frame, centre=CENTRE)
    assert list(table.columns) == [*features.MODEL_FEATURES, "price"]
    assert "name" not in table.columns and table["title_loft"].iloc[0] == 1.0


def test_title_features_known_values():
    table = text_features.add_title_features({"name": ["Luxury 3 bedroom canal house for 6 guests",
                                                  None, "Cosy studio"]})
    assert table["title_luxury"].tolist() == [1.0, 0.0, 0.0]
    assert table["title_canal"].tolist() == [1.0, 0.0, 0.0]
    assert table["title_small"].tolist() == [0.0, 0.0, 1.0]
    assert table["title_bedrooms"][0] == 3.0 and np.isnan(table["title_bedrooms"][2])
    assert table["title_guests"][0] == 6.0
    assert table["title_length"].tolist() == [41.0, 0.0, 11.0]


def test_amenities_from_json_text_or_list():
    assert text_features.amenity_list('["Wifi", "Fast wifi \\u2013 52 Mbps"]') == \
        ["wifi", "fast wifi – 52 mbps"]
    assert text_features.amenity_list(["Kitchen "]) == ["kitchen"]
    assert text_features.amenity_list("not json") == [] and text_features.amenity_list(None) == []


def test_detail_features_known_values():
    table = text_features.add_detail_features({
        "amenities": ['["Kitchen", "Dishwasher", "TV with standard cable"]', ["Kitchenette"]],
        "description": ["Sunny <b>75 m2</b> loft with canal view", None],
    })
    assert list(table["amenities_count"]) == [3.0, 1.0]
    assert list(table["amenity_kitchen"]) == [1.0, 0.0]  # "Kitchenette" is not a kitchen
    assert list(table["amenity_dishwasher"]) == [1.0, 0.0]
    assert list(table["amenity_cable_tv"]) == [1.0, 0.0] and table["amenity_tv"][0] == 1.0
    assert table["description_m2"][0] == 75.0 and np.isnan(table["description_m2"][1])
    assert table["description_canal"][0] == 1.0 and table["description_length"][1] == 0.0


def test_detailed_features_same_for_frame_and_dict(shared_data):
    """Serving builds detailed features from a dict of arrays with the function training uses
    on the DataFrame; on 200 real listings both give identical columns."""
    from airbnb_price.data import listings

    frame = listings.load_listings(shared_data / "2022-01-07" / "listings.csv.gz").frame.head(200)
    chosen = features.DETAILED
    as_frame = features.feature_table(frame, target=None, centre=CENTRE, feature_set=chosen)
    raw = {c: frame[c].to_numpy(dtype=object) for c in chosen.input_columns}
    for column in chosen.numeric:
        raw[column] = raw[column].astype(float)
    as_dict = features.add_features(raw, CENTRE, feature_set=chosen)
    for column in chosen.derived:
        np.testing.assert_array_equal(as_frame[column].to_numpy(dtype=float),
                                      np.asarray(as_dict[column], dtype=float), err_msg=column)
    assert as_frame["amenities_count"].min() > 0 and as_frame["description_m2"].notna().any()


@pytest.fixture(scope="module")
def shared_texts() -> list[str]:
    """Every title and description of the shared detailed files (newlines, HTML, scripts),
    as the features read them."""
    import gzip

    from airbnb_price.core import config

    texts: list[str] = []
    folder = config.PROJECT_ROOT.parent / "shared" / "data"
    for path in sorted(folder.glob("*/*/listings.csv.gz")):
        with gzip.open(path, "rt") as handle:
            frame = pd.read_csv(handle, usecols=["name", "description"], dtype=str)
        texts += text_features._texts([*frame["name"], *frame["description"]])
    assert texts, f"no detailed files under {folder}"
    return texts


def _assert_scans_search_alike(texts: list[str]) -> None:
    """`_Joined`'s keyword flags and first numbers (the C scans where the patterns allow,
    `re` on the texts they leave undecided) equal `pattern.search` on each text."""
    import re

    numbers = (text_features._BEDROOMS, text_features._GUESTS, text_features._SQUARE_METRES)
    joined = text_features._Joined(texts)
    flags = joined.flags(text_features._KEYWORD_PATTERNS)
    for key, found in zip(text_features.TITLE_KEYWORDS, flags, strict=True):
        written = text_features.TITLE_KEYWORDS[key]  # as written, one pattern
        expected = np.array([float(bool(re.search(written, t))) for t in texts])
        np.testing.assert_array_equal(found, expected, err_msg=key)
    for pattern in numbers:
        expected = [float(m.group(1)) if (m := pattern.search(t)) else np.nan for t in texts]
        np.testing.assert_array_equal(joined.first_numbers(pattern), expected,
                                      err_msg=pattern.pattern)
    np.testing.assert_array_equal(joined.lengths, [len(t) for t in texts])


def test_the_joined_scan_equals_a_search_per_text(shared_texts):
    """The joined-text scan against `pattern.search` on each text, on every title and
    description of the shared detailed files (newlines, HTML, scripts) and texts made to
    tempt a match across two texts or a separator inside one."""
    texts = list(shared_texts)
    texts += ["", "\n", "b&b\nhouse", "home", "cosy\n", "flat for 2", "bedroom", "3",
              "guests", "2 \x00bed", "45", "m2 4 p", "2\x1f-\x1cbed", "3\x1f\x0bp", "2\x002 ppl"]
    no_nul = [t for t in texts if "\x00" not in t]  # the C scans' column (they split at NUL)
    for chosen in (no_nul, texts, texts[-13:-12], texts[-1:]):  # and `re`'s, one request's text
        _assert_scans_search_alike(chosen)


def test_the_c_scans_are_the_patterns_own_matches():
    """The C scans (`_text.c`) take the keyword and title-number patterns (their simple
    form), and on generated texts built of the patterns' own words, digits (ASCII and not),
    spaces (ASCII, no-break, separators), word and non-word characters of several scripts
    on either side, they find what `re` finds."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    assert text_features._Scan.of_keywords(text_features._KEYWORD_PATTERNS) is not None
    assert text_features._Scan.of_number(text_features._BEDROOMS) is not None
    assert text_features._Scan.of_number(text_features._GUESTS) is not None
    pieces = st.sampled_from(["room", "house", "home", "bed", "br", "bdr", "p", "pers", "ppl",
                              "guests", "2", "12", "\u0663", "\uff13", " ", "\xa0", "\x1c",
                              "\t", "-", "_", "\u00e9", "\u00df", "\u0436", "\u2605",
                              "cosy", "coz", "b&b", "bed and breakfast", "x", ".", "view",
                              "bedroom", "slaapkamer", "luxur", "\n", "room1"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.lists(pieces, max_size=8).map("".join), min_size=2, max_size=6))
    def scans_alike(texts):
        _assert_scans_search_alike(texts)

    scans_alike()


def test_patterns_written_for_speed_match_as_written_plainly(shared_texts):
    """TITLE_KEYWORDS writes a whole word `room(?<!\\wroom)\\b` and the numbers `\\d\\d*` for
    speed: they find exactly what `\\broom\\b` and `\\d+` find, on every title and description
    of the shared detailed files and on words made to sit at every kind of edge."""
    import re

    plain = {"house": r"\bhouse\b|home\b", "room": r"\broom\b"}
    texts = ["room", "rooms", "bedroom", "a room.", "2-room", "room_1", "_room", "ßroom",
             "домroom", "house", "farmhouse", "houseboat", "home", "a\x00room\x00house",
             *shared_texts]
    for key, pattern in plain.items():
        written = re.compile(text_features.TITLE_KEYWORDS[key])
        assert written.pattern != pattern
        for text in texts:
            assert ([m.span() for m in written.finditer(text)]
                    == [m.span() for m in re.finditer(pattern, text)]), (key, text)
    numbers = {text_features._BEDROOMS: r"(\d+)\s*(?:-\s*)?(?:bed|br\b|bdr|bedroom|slaapkamer)",
               text_features._GUESTS: r"(\d+)\s*(?:p\b|pers|people|guests|ppl)",
               text_features._SQUARE_METRES: r"(\d{2,3})\s*(?:m2|m²|sqm|square met|sq\.? ?m)"}
    for written, pattern in numbers.items():  # numbers written \d\d*, not \d+
        for text in [*texts, "12345 beds", "2br", "1234 m2", "99sqm"]:
            assert ([m.group(1) for m in written.finditer(text)]
                    == [m.group(1) for m in re.finditer(pattern, text)]), (pattern, text)


def test_a_pattern_splits_into_its_top_level_alternatives():
    """Groups, classes and escaped bars stay whole; each alternative compiles alone."""
    found = text_features._alternatives(r"a|b(c|d)e|[x|y]|\|z|home\b")
    assert [p.pattern for p in found] == ["a", "b(c|d)e", "[x|y]", r"\|z", r"home\b"]
    assert [p.pattern for p in text_features._alternatives("loft")] == ["loft"]
