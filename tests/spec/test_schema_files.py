"""The JSON Schemas snapplan ships are valid against their metaschema (checked here, not on every run)."""
from __future__ import annotations

import json

import pytest
from jsonschema import validators

from engine.spec.schema import SCHEMA_DIR


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json")))
def test_schema_is_valid_against_its_metaschema(name):
    schema = json.loads((SCHEMA_DIR / name).read_text())
    validators.validator_for(schema).check_schema(schema)  # raises SchemaError, naming the broken keyword

