"""The shared cities and the example requests the tests send: each model spec's own example body
(lambda/events/bodies/<name>.json), the same files the README, notebook 05 and deploys use."""

from airbnb_price.core import spec

EXAMPLE = spec.get().example()
EXAMPLE_DETAILED = spec.get(feature_set="detailed").example()
EXAMPLE_EXISTING = spec.get(feature_set="existing").example()

#: The cities of ../shared/data besides Amsterdam, each with a summary and a detailed file.
OTHER_CITIES = ("victoria", "valencia", "albany")
