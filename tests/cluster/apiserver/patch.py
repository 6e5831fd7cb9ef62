"""Patch documents: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge for built-ins.

Errors are ApiErrors worded like kube-apiserver's (it uses evanphx/json-patch).
"""
from __future__ import annotations

import copy

from .errors import ApiError, bad_request

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

# Lists merged by key in strategic merge patches of the built-ins we serve (from their Go struct tags).
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "env": "name",
               "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name",
               "ownerReferences": "uid", "conditions": "type"}
_SET_LISTS = {"finalizers"}


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def check_merge_patch(patch: object) -> None:
    if not isinstance(patch, dict):
        raise bad_request("Invalid JSON Patch")


def _invalid(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _pointer(path: object) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _invalid(f'invalid JSON pointer: "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _parent(doc: object, parts: list[str], op: str, path: str) -> tuple[object, str]:
    node = doc
    for part in parts[:-1]:
        node = _step(node, part, op, path)
    if not parts:
        raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return node, parts[-1]


def _step(node: object, part: str, op: str, path: str) -> object:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def _get(doc: object, path: str, op: str) -> object:
    node = doc
    for part in _pointer(path):
        node = _step(node, part, op, path)
    return node


def _add(doc: object, path: str, value: object, op: str = "add") -> object:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else (int(last) if last.isdigit() else -1)
        if not 0 <= index <= len(parent):
            raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
        parent.insert(index, value)
    else:
        raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc: object, path: str, op: str = "remove") -> object:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, op, path)
    _step(parent, last, op, path)
    if isinstance(parent, dict):
        return parent.pop(last)
    return parent.pop(int(last))


def json_patch(doc: object, operations: object) -> object:
    """Apply an RFC 6902 patch to a copy of doc."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        op, path = operation.get("op"), operation.get("path")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise _invalid(f"{op} operation does not apply: value is missing")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            if not _pointer(path):
                doc = copy.deepcopy(operation["value"])
                continue
            _get(doc, path, "replace")
            parent, last = _parent(doc, _pointer(path), "replace", path)
            if isinstance(parent, list):
                parent[int(last)] = copy.deepcopy(operation["value"])
            else:
                parent[last] = copy.deepcopy(operation["value"])
        elif op in ("move", "copy"):
            source = operation.get("from")
            value = _remove(doc, source, op) if op == "move" else copy.deepcopy(_get(doc, source, op))
            doc = _add(doc, path, value, op)
        elif op == "test":
            if _get(doc, path, "test") != operation["value"]:
                raise _invalid(f"testing value {path} failed: test failed")
        else:
            raise _invalid(f"Unexpected kind: {op}")
    return doc


def strategic_merge(target: object, patch: object) -> object:
    """Strategic merge as the built-ins here need it: merge patch, plus keyed list merging and $patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_keyed(result[key], value, _MERGE_KEYS[key])
        elif isinstance(value, list) and key in _SET_LISTS and isinstance(result.get(key), list):
            result[key] = list(dict.fromkeys([*result[key], *value]))
        else:
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_keyed(current: list, patch: list, key: str) -> list:
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            return copy.deepcopy(patch)
        match = next((i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item[key]),
                     None)
        if item.get("$patch") == "delete":
            if match is not None:
                result.pop(match)
        elif match is None:
            result.append(strategic_merge({}, item))
        else:
            result[match] = strategic_merge(result[match], item)
    return result
