"""The model spec: every per-model name, contract and example derives from one record."""

from __future__ import annotations

import json

import pytest

from airbnb_price.core import cities, config, features, spec
from airbnb_price.serve import contract

AMSTERDAM = [s for s in spec.SPECS.values() if s.city == "amsterdam"]


def test_names_derive_from_city_and_feature_set():
    assert [s.name for s in AMSTERDAM] == [
        "amsterdam-price", "amsterdam-price-detailed", "amsterdam-price-existing"]
    assert len(spec.SPECS) == len(cities.CATALOGUE) * len(features.FEATURE_SETS)
    assert spec.get("new-york-city", "detailed").name == "new-york-city-price-detailed"
    for name, model in spec.SPECS.items():
        assert spec.parse_name(name) == model
    assert spec.parse_name("latest.json") is None
    detailed = spec.get(feature_set="detailed")
    assert detailed.source is config.DETAILED_FILE and detailed.city == "amsterdam"
    assert spec.get().source is config.SUMMARY_FILE


def test_unknown_city_or_feature_set_lists_the_choices():
    with pytest.raises(spec.SpecError, match="unknown feature_set 'fancy'; one of: summary"):
        spec.get(feature_set="fancy")
    with pytest.raises(spec.SpecError, match="'New York' is not a city slug"):
        spec.get("New York")
    assert spec.get("atlantis").name == "atlantis-price"  # a city trained from its own file


def test_models_older_than_specs_are_amsterdam_summary_models():
    assert spec.of_metadata({}) == spec.get()
    assert spec.of_metadata({"feature_set": "existing"}).name == "amsterdam-price-existing"


@pytest.mark.parametrize("model", AMSTERDAM, ids=lambda s: s.name)
def test_every_spec_has_an_example_its_own_contract_accepts(model):
    example = model.example()
    contract.contract(model.feature_set).model_validate(example)
    assert spec.feature_set_of(example) == model.feature_set


def test_example_bodies_are_exactly_the_specs():
    bodies = {p.stem for p in (config.EVENTS_DIR / "bodies").glob("*.json")}
    assert {s.name for s in AMSTERDAM} <= bodies <= set(spec.SPECS)


def test_the_fields_choose_the_most_specific_feature_set():
    assert spec.feature_set_of(["name", "latitude"]) is features.SUMMARY
    assert spec.feature_set_of(["accommodates"]) is features.DETAILED
    assert spec.feature_set_of(["accommodates", "review_scores_value"]) is features.EXISTING
    assert features.EXISTING.own_inputs == frozenset(features.REVIEW_INPUTS)


def test_contracts_are_the_feature_sets_inputs():
    for feature_set in features.FEATURE_SETS.values():
        fields = set(contract.contract(feature_set).model_fields)
        assert fields == {*feature_set.input_columns, "city"}  # city picks the model


def test_pinned_versions_are_parsed_by_name():
    assert spec.pinned_versions("") == {}
    assert spec.pinned_versions(" amsterdam-price=v1 , amsterdam-price-detailed= ") == {
        "amsterdam-price": "v1"}
    with pytest.raises(spec.SpecError, match="'v2' is not name=version"):
        spec.pinned_versions("v2")


def test_example_events_carry_the_example_bodies():
    """lambda/events/*.json are API Gateway HTTP API v2 events; their bodies are the specs'
    example requests (what the README's curl sends)."""
    event = json.loads((config.EVENTS_DIR / "predict.json").read_text())
    assert event["version"] == "2.0" and event["routeKey"] == "POST /predict"
    assert json.loads(event["body"]) == spec.get().example()
    detailed = json.loads((config.EVENTS_DIR / "predict-detailed.json").read_text())
    assert json.loads(detailed["body"]) == spec.get(feature_set="detailed").example()
    health = json.loads((config.EVENTS_DIR / "health.json").read_text())
    assert health["requestContext"]["http"]["method"] == "GET" and health["body"] is None
