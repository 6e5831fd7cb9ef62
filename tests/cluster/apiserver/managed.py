"""metadata.managedFields: which manager owns which fields, updated on every write that names a manager.

Field sets are leaf paths; lists count as one leaf (atomic), which is coarser than kube's structured
merge diff for `x-kubernetes-list-type: map` lists.
"""
from __future__ import annotations

from .meta import format_time
from .resources import ResourceType

Path = tuple[str, ...]
_MISSING = object()
_META_TRACKED = ("labels", "annotations", "finalizers", "ownerReferences")


def tracked(rt: ResourceType, obj: dict, subresource: str) -> dict:
    """The part of an object whose fields have owners (status only through /status, when it exists)."""
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    skip = {"apiVersion", "kind", "metadata"} | ({"status"} if rt.status_subresource else set())
    part = {k: v for k, v in obj.items() if k not in skip}
    meta = {k: obj["metadata"][k] for k in _META_TRACKED if obj["metadata"].get(k) not in (None, {}, [])}
    if meta:
        part["metadata"] = meta
    return part


def leaves(value: dict, prefix: Path = ()) -> dict[Path, object]:
    out: dict[Path, object] = {}
    for key, item in value.items():
        path = prefix + (key,)
        if isinstance(item, dict) and item:
            out.update(leaves(item, path))
        else:
            out[path] = item
    return out


def to_fields_v1(paths: set[Path]) -> dict:
    root: dict = {}
    for path in sorted(paths):
        node = root
        for i, key in enumerate(path):
            node = node.setdefault(f"f:{key}", {})
            if i < len(path) - 1 and (i, key) != (0, "metadata"):
                node.setdefault(".", {})
    return root


def from_fields_v1(fields: dict, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, child in (fields or {}).items():
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        inner = {k: v for k, v in child.items() if k.startswith("f:")}
        out |= from_fields_v1(inner, path) if inner else {path}
    return out


def overlaps(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def entries(obj: dict) -> list[dict]:
    return [dict(e) for e in obj["metadata"].get("managedFields") or []]


def owned(entry: dict) -> set[Path]:
    return from_fields_v1(entry.get("fieldsV1") or {})


def set_owned(entry: dict, paths: set[Path]) -> None:
    entry["fieldsV1"] = to_fields_v1(paths)


def identifier(entry: dict) -> str:
    """How conflict messages name a manager (kube's printManager, without time)."""
    text = f'"{entry["manager"]}"'
    if entry.get("subresource"):
        text += f' with subresource "{entry["subresource"]}"'
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion')}"
    return text


def new_entry(rt: ResourceType, manager: str, operation: str, subresource: str, now) -> dict:
    entry = {"manager": manager, "operation": operation, "apiVersion": rt.api_version, "time": format_time(now),
             "fieldsType": "FieldsV1", "fieldsV1": {}}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _find(items: list[dict], manager: str, operation: str, subresource: str) -> dict | None:
    for entry in items:
        if (entry["manager"], entry.get("operation"), entry.get("subresource", "")) == (manager, operation,
                                                                                       subresource):
            return entry
    return None


def record_update(rt: ResourceType, old: dict | None, new: dict, manager: str, subresource: str, now) -> None:
    """An Update by `manager`: it takes the fields it changed; fields that disappeared lose their owners."""
    before = leaves(tracked(rt, old, subresource)) if old else {}
    after = leaves(tracked(rt, new, subresource))
    changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
    removed = set(before) - set(after)
    items = entries(old) if old else []
    mine = _find(items, manager, "Update", subresource)
    for entry in items:
        paths = owned(entry)
        kept = {p for p in paths if p not in removed
                and (entry is mine or not any(overlaps(p, c) for c in changed))}
        if kept != paths:
            set_owned(entry, kept)
    if changed:
        if mine is None:
            mine = new_entry(rt, manager, "Update", subresource, now)
            items.append(mine)
        set_owned(mine, owned(mine) | changed)
        mine["time"] = format_time(now)
    set_entries(new, [e for e in items if e.get("fieldsV1")])


def set_entries(obj: dict, items: list[dict]) -> None:
    if items:
        obj["metadata"]["managedFields"] = items
    else:
        obj["metadata"].pop("managedFields", None)
