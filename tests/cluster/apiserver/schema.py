"""Structural OpenAPI v3 schemas as a CRD uses them: pruning, defaulting and validation of an object.

Mirrors apiextensions-apiserver (pruning, structural defaulting) and kube-openapi's validator, including
the wording of its field errors (`spec.x in body must be of type string: "integer"`).
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
from functools import lru_cache

from .errors import FieldError, not_supported
from .meta import is_rfc3339


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _item_schema(schema: dict, key: str) -> dict | None:
    props = schema.get("properties")
    if props and key in props:
        return props[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def prune(value: object, schema: dict, path: str, pruned: list[str]) -> None:
    """Drop fields the schema does not know (in place), recording their paths, as structural pruning does."""
    if isinstance(value, dict):
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        for key in list(value):
            sub = _item_schema(schema, key)
            if sub is not None:
                prune(value[key], sub, _child(path, key), pruned)
            elif not preserve:
                del value[key]
                pruned.append(_child(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            prune(item, schema["items"], f"{path}[{i}]", pruned)


def apply_defaults(value: object, schema: dict) -> None:
    """Fill `default`s and drop nulls of non-nullable fields (in place), as structural defaulting does."""
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if "default" in sub and value.get(key) is None and (key not in value or not sub.get("nullable")):
                value[key] = copy.deepcopy(sub["default"])
        for key in list(value):
            sub = _item_schema(schema, key)
            if sub is None:
                continue
            if value[key] is None and not sub.get("nullable"):
                del value[key]
            else:
                apply_defaults(value[key], sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_ok(value: object, wanted: str) -> bool:
    actual = json_type(value)
    return actual == wanted or (wanted == "number" and actual == "integer")


def _format_ok(fmt: str, value: str) -> bool:
    if fmt == "date-time":
        return is_rfc3339(value)
    if fmt == "date":
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
    if fmt == "byte":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
        return True
    return True


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def validate(value: object, schema: dict, path: str) -> list[FieldError]:
    """All schema violations under `path`, in kube's wording; empty when valid."""
    errors: list[FieldError] = []
    _validate(value, schema, path, errors)
    return errors


def _validate(value: object, schema: dict, path: str, errors: list[FieldError]) -> None:
    wanted = schema.get("type")
    if value is None:
        if not schema.get("nullable") and wanted:
            errors.append(FieldError("TypeInvalid", path, "null", f'{path} in body must be of type {wanted}: "null"'))
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append(FieldError("TypeInvalid", path, json_type(value),
                                     f'{path} in body must be of type integer,string: "{json_type(value)}"'))
            return
    elif wanted and not _type_ok(value, wanted):
        actual = json_type(value)
        errors.append(FieldError("TypeInvalid", path, actual, f'{path} in body must be of type {wanted}: "{actual}"'))
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(not_supported(path, value, schema["enum"]))
    if isinstance(value, str):
        _validate_string(value, schema, path, errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(value, schema, path, errors)
    elif isinstance(value, list):
        _validate_array(value, schema, path, errors)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, errors)


def _validate_string(value: str, schema: dict, path: str, errors: list[FieldError]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(FieldError("Invalid", path, value,
                                 f"{path} in body should be at least {schema['minLength']} chars long"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(FieldError("Invalid", path, value,
                                 f"{path} in body should be at most {schema['maxLength']} chars long"))
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        errors.append(FieldError("Invalid", path, value, f"{path} in body should match '{schema['pattern']}'"))
    fmt = schema.get("format")
    if fmt and not _format_ok(fmt, value):
        errors.append(FieldError("Invalid", path, value, f'{path} in body must be of type {fmt}: "{value}"'))


def _validate_number(value: float, schema: dict, path: str, errors: list[FieldError]) -> None:
    if "maximum" in schema:
        top = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= top:
            errors.append(FieldError("Invalid", path, value, f"{path} in body should be less than {top}"))
        elif value > top:
            errors.append(FieldError("Invalid", path, value, f"{path} in body should be less than or equal to {top}"))
    if "minimum" in schema:
        low = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= low:
            errors.append(FieldError("Invalid", path, value, f"{path} in body should be greater than {low}"))
        elif value < low:
            errors.append(FieldError("Invalid", path, value,
                                     f"{path} in body should be greater than or equal to {low}"))


def _validate_array(value: list, schema: dict, path: str, errors: list[FieldError]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(FieldError("Invalid", path, len(value),
                                 f"{path} in body should have at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(FieldError("TooMany", path, len(value), f"must have at most {schema['maxItems']} items"))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", errors)
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        seen: list = []
        for i, item in enumerate(value):
            if item in seen:
                errors.append(FieldError("Duplicate", f"{path}[{i}]", item))
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: set = set()
        for i, item in enumerate(value):
            if isinstance(item, dict):
                key = tuple(repr(item.get(k)) for k in keys)
                if key in seen_keys:
                    errors.append(FieldError("Duplicate", f"{path}[{i}]", {k: item.get(k) for k in keys}))
                seen_keys.add(key)


def _validate_object(value: dict, schema: dict, path: str, errors: list[FieldError]) -> None:
    for key in schema.get("required") or ():
        if key not in value:
            errors.append(FieldError("Required", _child(path, key)))
    for key in sorted(value):
        sub = _item_schema(schema, key)
        if sub is not None:
            _validate(value[key], sub, _child(path, key), errors)
