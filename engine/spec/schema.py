"""Validate a policy document against schemas/policy.schema.json, reporting positions and plain messages."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from engine.errors import Diagnostics, clip
from engine.spec.source import Document, dotted

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text())


@lru_cache(maxsize=None)
def _validator(name: str = "policy.schema.json"):
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    # The schema is checked against its metaschema by tests/spec/test_schema_files.py, not on every run (~0.1 s).
    validator = extend(Draft202012Validator, {"uniqueItems": _unique_items})
    return validator(inline_refs(load_schema(name)))


def inline_refs(schema: dict) -> dict:
    """The schema with every bare local `{"$ref": "#/$defs/X"}` replaced by X itself (recursive ones kept).
    The same checks and messages; the validator no longer resolves a reference per schedule, location and
    name in the policy (a third of validation time at 1,000 schedules)."""
    defs = schema.get("$defs") or {}

    def walk(node, resolving: tuple[str, ...]):
        if isinstance(node, list):
            return [walk(item, resolving) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if len(node) == 1 and isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in defs and "/" not in name and name not in resolving:
                return walk(defs[name], resolving + (name,))
        return {key: walk(value, resolving) for key, value in node.items()}

    return walk(schema, ())


def _unique_items(validator, unique, instance, schema):
    """uniqueItems in linear time. jsonschema's own compares every pair when items are unhashable, so a
    hostile list of 60,000 one-item lists takes hours."""
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{clip(item)} is listed more than once")
            return
        seen.add(key)


def _canonical(value):
    """A hashable form with JSON Schema's equality: 1 == 1.0, but true != 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("list", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("map", frozenset((k, _canonical(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def check_schema(doc: Document, diags: Diagnostics, schema: str = "policy.schema.json") -> None:
    """Every schema error of `doc` (policy.schema.json unless another file of schemas/ is named), at its position."""
    seen: set[tuple] = set()
    for err in _validator(schema).iter_errors(doc.data):
        if diags.full:
            diags.dropped += 1  # at least one more; validating the rest of a hostile file costs seconds
            break
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
    if "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
        # A bad name in a map keyed by name: point at the name itself.
        return [(path + (err.instance,), f"invalid name {clip(err.instance)} ({_name_hint(path)})", True)]
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        return [(path + (k,), f"unknown field {clip(k)}{hint}", True) for k in extra]
    if v == "required":
        return [(path, f"missing required field {err.message.split(chr(39))[1]!r}", False)]
    if v == "enum":
        return [(path, f"{clip(err.instance)} is not one of {', '.join(map(str, err.validator_value))}", False)]
    if v == "const":
        return [(path, f"must be {err.validator_value!r}, not {clip(err.instance)}", False)]
    if v == "type":
        want = err.validator_value
        want = " or ".join(map(_yaml_word, want)) if isinstance(want, list) else _yaml_word(want)
        return [(path, f"expected {_article(want)}, got {_type_name(err.instance)}", False)]
    if v == "minItems":
        return [(path, f"needs at least {err.validator_value} item(s)", False)]
    if v == "pattern":
        return [(path, f"{clip(err.instance)} is not valid here ({_pattern_hint(path, err.validator_value)})", False)]
    if v == "minLength":
        return [(path, f"{clip(err.instance)} is too short (at least {err.validator_value} characters)", False)]
    if v == "maxLength":
        return [(path, f"is too long (at most {err.validator_value} characters)", False)]
    if v in ("minProperties", "maxProperties") and "credentials" in path:
        return [(path, "give exactly one of file, env, secretRef", False)]
    if v in ("minProperties", "maxProperties") and path[-1:] == ("from",):
        return [(path, "give exactly one of schedule, backup", False)]
    if v in ("if", "allOf"):
        return [(p, m, k) for sub in err.context for p, m, k in _explain(sub)]
    return [(path, err.message, False)]


def _pattern_hint(path: tuple, pattern: str) -> str:
    if path and path[-1] == "retention":
        return "use e.g. 30d, 2w, 36h or 1h30m"
    if "namespaces" in path or path[-1:] in (("name",), ("app",)):
        return "lowercase letters, digits and '-', at most 63 characters"
    return f"must match {pattern}"


def _name_hint(path: tuple) -> str:
    if path[-1:] == ("labelSelector",):
        return "a label key: [prefix/]name, letters, digits, '-', '_' and '.'"
    return "lowercase letters, digits and '-', at most 63 characters"


def _yaml_word(json_type: str) -> str:
    """JSON Schema's type names in the words of a YAML file."""
    return {"object": "mapping", "array": "list"}.get(json_type, json_type)


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _type_name(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "nothing (null)"}.get(type(value), type(value).__name__)
