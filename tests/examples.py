"""The shared cities and the example requests the tests send: each model spec's own example body
(lambda/events/bodies/<name>.json), the same files the README, notebook 05 and deploys use."""

from airbnb_price.core import cities, spec
from airbnb_price.data import cleaning

EXAMPLE = spec.get().example()
EXAMPLE_DETAILED = spec.get(feature_set="detailed").example()
EXAMPLE_EXISTING = spec.get(feature_set="existing").example()
#: Where the examples' (Amsterdam listings') distances are measured from: every feature call
#: names its city's centre.
CENTRE = cities.lookup("amsterdam").centre
#: The cleaning the shared Amsterdam files get (the article's price window, explicit too).
RULES = cleaning.default_rules(*cities.lookup("amsterdam").price_window)

#: The cities of ../shared/data besides Amsterdam, each with a summary and a detailed file.
OTHER_CITIES = ("victoria", "valencia", "albany")
