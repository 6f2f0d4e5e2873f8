"""Model features as a reader says them: "Minimum nights", "Room type: private room",
"Distance to the centre (km)", "Bedrooms (from the listing card)".

One table for the stakeholder page's price drivers and notebook 04's figures, next to the
table of input columns (`core/columns.py`); a one-hot column (`room_type_Private room`) reads
as its input's label and its level, a feature missing here as its name in words.
"""

from __future__ import annotations

from airbnb_price.core import features, text_features
from airbnb_price.core.columns import COLUMNS

#: Input columns by their label in the table of input columns; derived features here.
LABELS = {name: column.label for name, column in COLUMNS.items()} | {
    "geo_x": "Position on the globe (x)", "geo_y": "Position on the globe (y)",
    "geo_z": "Position on the globe (z)", "distance_to_centre_km": "Distance to the centre (km)",
    "title_length": "Title length (characters)", "title_bedrooms": "Bedrooms (from the title)",
    "title_guests": "Guests (from the title)",
    "card_property_type": "Property type (from the listing card)",
    "card_bedrooms": "Bedrooms (from the listing card)",
    "card_beds": "Beds (from the listing card)", "card_baths": "Baths (from the listing card)",
    "card_shared_bath": "Shared bath (from the listing card)",
    "card_rating": "Rating (from the listing card)", "amenities_count": "Number of amenities",
}
#: Prefixes of derived flags: "title_garden" reads "Title mentions: garden".
PREFIXES = {"title_": "Title mentions: ", "description_": "Description mentions: ",
            "amenity_": "Amenity: "}
CATEGORICAL = (*features.DETAILED.categorical, text_features.CARD_FEATURES[0])


def label(feature: str) -> str:
    """The reader's name of a model feature (or of a one-hot column of a categorical one)."""
    if feature in LABELS:
        return LABELS[feature]
    for column in CATEGORICAL:
        if feature.startswith(f"{column}_"):
            level = feature[len(column) + 1:]  # a place keeps its capitals, a kind does not
            return f"{LABELS[column]}: {level if column == 'neighbourhood' else level.lower()}"
    for prefix, words in PREFIXES.items():
        if feature.startswith(prefix):
            return words + feature[len(prefix):].replace("_", " ")
    return feature.replace("_", " ").capitalize()
