"""Validate a policy document against schemas/policy.schema.json, reporting positions and plain messages."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from engine.errors import Diagnostics
from engine.spec.source import Document, dotted

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text())


@lru_cache(maxsize=None)
def _validator():
    from jsonschema import Draft202012Validator

    schema = load_schema("policy.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_schema(doc: Document, diags: Diagnostics) -> None:
    seen: set[tuple] = set()
    for err in _validator().iter_errors(doc.data):
        for path, message, at_key in _explain(err):
            key = (path, message)
            if key in seen:
                continue
            seen.add(key)
            where = doc.where_key(path) if at_key else doc.where(path)
            diags.error(message, dotted(path), where)


def _explain(err) -> list[tuple[tuple, str, bool]]:
    """Turn one jsonschema error into (path, message, point-at-key) triples a user can act on."""
    path = tuple(err.absolute_path)
    v = err.validator
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        return [(path + (k,), f"unknown field {k!r}{hint}", True) for k in extra]
    if v == "required":
        return [(path, f"missing required field {err.message.split(chr(39))[1]!r}", False)]
    if v == "enum":
        return [(path, f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}", False)]
    if v == "const":
        return [(path, f"must be {err.validator_value!r}, not {err.instance!r}", False)]
    if v == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return [(path, f"expected {_article(want)}, got {_type_name(err.instance)}", False)]
    if v == "pattern":
        return [(path, f"{err.instance!r} is not valid here ({_pattern_hint(path, err.validator_value)})", False)]
    if v == "minLength":
        return [(path, f"{err.instance!r} is too short (at least {err.validator_value} characters)", False)]
    if v == "maxLength":
        return [(path, f"is too long (at most {err.validator_value} characters)", False)]
    if v == "propertyNames":
        return [(path, f"invalid name: {err.message}", False)]
    if v in ("minProperties", "maxProperties") and "credentials" in path:
        return [(path, "give exactly one of file, env, secretRef", False)]
    if v in ("minProperties", "maxProperties") and path[-1:] == ("from",):
        return [(path, "give exactly one of schedule, backup", False)]
    if v in ("if", "allOf"):
        return [(p, m, k) for sub in err.context for p, m, k in _explain(sub)]
    return [(path, err.message, False)]


def _pattern_hint(path: tuple, pattern: str) -> str:
    if path and path[-1] == "retention":
        return "use Nh, Nd or Nw, e.g. 30d"
    if "namespaces" in path or path[-1:] in (("name",), ("app",)):
        return "lowercase letters, digits and '-', at most 63 characters"
    return f"must match {pattern}"


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _type_name(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "nothing (null)"}.get(type(value), type(value).__name__)
