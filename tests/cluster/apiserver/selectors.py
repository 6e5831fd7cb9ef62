"""Label and field selectors in kube's string syntax, parsed once into predicates over objects."""
from __future__ import annotations

import re
from typing import Callable

from .errors import bad_request

Predicate = Callable[[dict], bool]
_TERM = re.compile(r"\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(==|=|!=)\s*([-A-Za-z0-9_.]*)|"
                   r"(in|notin)\s*\(([^)]*)\))?\s*(?:,|\Z)")


def parse_label_selector(selector: str | dict | None) -> Predicate | None:
    """A predicate over an object's labels; None when the selector selects everything."""
    if not selector:
        return None
    if isinstance(selector, dict):
        wanted = dict(selector)
        return lambda obj: _labels(obj).items() >= wanted.items()
    checks: list[Callable[[dict], bool]] = []
    pos = 0
    while pos < len(selector):
        match = _TERM.match(selector, pos)
        if not match or match.end() == pos:
            raise bad_request(f"unable to parse requirement: found '{selector[pos:]}', expected: identifier")
        negate, key, op, value, set_op, values = match.groups()
        checks.append(_requirement(negate, key, op, value, set_op, values))
        pos = match.end()
    return lambda obj: all(check(_labels(obj)) for check in checks)


def _labels(obj: dict) -> dict:
    return obj.get("metadata", {}).get("labels") or {}


def _requirement(negate: str, key: str, op: str | None, value: str | None, set_op: str | None,
                 values: str | None) -> Callable[[dict], bool]:
    if negate:
        return lambda labels: key not in labels
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if set_op:
        options = {v.strip() for v in values.split(",") if v.strip()}
        if set_op == "in":
            return lambda labels: labels.get(key) in options
        return lambda labels: labels.get(key) not in options
    return lambda labels: key in labels


_FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}
_SECRET_FIELDS = {**_FIELDS, "type": ("type",)}


def parse_field_selector(selector: str | None, plural: str) -> tuple[Predicate | None, str | None]:
    """A predicate for the selector and the single name it pins (`metadata.name=x`), if any."""
    if not selector:
        return None, None
    known = _SECRET_FIELDS if plural == "secrets" else _FIELDS
    checks = []
    pinned = None
    for term in selector.split(","):
        match = re.fullmatch(r"\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*", term)
        if not match:
            raise bad_request(f'invalid selector: \'{selector}\'; can\'t understand \'{term}\'')
        field, op, value = match.groups()
        if field not in known:
            raise bad_request(f'field label not supported: {field}')
        path = known[field]
        if op != "!=" and field == "metadata.name":
            pinned = value
        checks.append((path, op == "!=", value))

    def predicate(obj: dict) -> bool:
        for path, negate, value in checks:
            current: object = obj
            for part in path:
                current = current.get(part, "") if isinstance(current, dict) else ""
            if (current == value) == negate:
                return False
        return True
    return predicate, pinned
