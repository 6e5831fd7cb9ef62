"""Merge policy fragments over a base document, and substitute ${variables}; every value keeps the position
of the file that wrote it, so an error in the merged policy points at the overlay (or base) line to fix.

The merge is by key, like a Kubernetes strategic merge patch for a policy whose named things are all maps:
- mapping over mapping: merged key by key, recursively (`storage.primary.bucket` changes only the bucket);
- `key: null` in an overlay removes the key (an app, a schedule, a field);
- anything else (a scalar, a list such as an app's `namespaces`, or a different type) replaces the base value
  whole. The policy has no lists of named entries (storage, schedules, apps, restores are maps keyed by name),
  so no list is merged item by item: an overlay that lists namespaces lists all of them.
"""
from __future__ import annotations

import copy
import re

from engine.errors import Diagnostics, printable
from engine.spec.source import Document, dotted

VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}")


def overlay(base: Document, fragment: Document, diags: Diagnostics) -> None:
    """Merge `fragment` into `base` (changed in place)."""
    if fragment.data is None:
        return  # an empty overlay file
    if not isinstance(fragment.data, dict):
        diags.error("an overlay must be a mapping of policy fields", source=fragment.where(()))
        return
    _merge_map(base, fragment, (), base.data, fragment.data)


def _merge_map(dst: Document, src: Document, path: tuple, into: dict, over: dict) -> None:
    for key, value in over.items():
        here = path + (key,)
        if value is None:
            into.pop(key, None)
            _drop(dst, here)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge_map(dst, src, here, into[key], value)
        else:
            into[key] = copy.deepcopy(value)
            _drop(dst, here)
            _copy(src, dst, here)


def _drop(doc: Document, prefix: tuple) -> None:
    n = len(prefix)
    for table in (doc.positions, doc.key_positions):
        for path in [p for p in table if p[:n] == prefix]:
            del table[path]


def _copy(src: Document, dst: Document, prefix: tuple) -> None:
    n = len(prefix)
    for s, d in ((src.positions, dst.positions), (src.key_positions, dst.key_positions)):
        for path, pos in s.items():
            if path[:n] == prefix:
                d[path] = pos


def substitute(doc: Document, variables: dict[str, str], diags: Diagnostics) -> None:
    """Replace ${name} in every text value and mapping key (`$$` is a literal `$`); an unknown variable is an
    error at the value (or key) that names it."""
    doc.data = _walk(doc, (), doc.data, variables, diags)


def _walk(doc: Document, path: tuple, value, variables: dict, diags: Diagnostics):
    if isinstance(value, str):
        return _text(value, variables, diags, path, doc.where(path))
    if isinstance(value, list):
        return [_walk(doc, path + (i,), v, variables, diags) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        new = _text(key, variables, diags, path + (key,), doc.where_key(path + (key,)))
        if new != key:
            if new in value or new in out:
                diags.error(f"{printable(key, 60)!r} becomes {printable(new, 60)!r}, which is already defined",
                            dotted(path + (key,)), doc.where_key(path + (key,)))
                continue
            _rename(doc, path + (key,), path + (new,))
        out[new] = _walk(doc, path + (new,), item, variables, diags)
    return out


def _rename(doc: Document, old: tuple, new: tuple) -> None:
    n = len(old)
    for table in (doc.positions, doc.key_positions):
        for path in [p for p in table if p[:n] == old]:
            table[new + path[n:]] = table.pop(path)


def _text(text: str, variables: dict, diags: Diagnostics, path: tuple, where) -> str:
    if "$" not in text:
        return text

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if name not in variables:
            known = ", ".join(f"${{{k}}}" for k in sorted(variables))
            diags.error(f"unknown variable ${{{printable(name, 40)}}} (known here: {known}; write $$ for a "
                        "literal $)", dotted(path), where)
            return match.group(0)
        return variables[name]

    return VARIABLE.sub(one, text)
