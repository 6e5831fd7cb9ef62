"""The shape an object read from a state file must have before the diff and the plan read it.

An API server guarantees its objects' types (a label is text, a Schedule's template a mapping, a time RFC 3339);
a file guarantees nothing, so the fields snapplan reads are checked here, and a wrong one is a StateError that
names the field instead of a crash three stages later. Fields snapplan does not read pass as they are.
"""
from __future__ import annotations

from datetime import datetime

from engine.errors import clip

TEXT, NUMBER, FLAG, MAP, TEXTS, TEXT_MAP, TIME, CONTAINERS = (
    "text", "an integer", "true or false", "a mapping", "a list of text", "a mapping of text to text",
    "an RFC 3339 time with a zone", "a list of containers")

# kind -> {field path: what it must be}, for the fields engine/diff.py, graph.py and plan/ read. null is allowed
# everywhere (kubectl writes `creationTimestamp: null` in templates); readers treat it as absent.
FIELDS: dict[str, dict[tuple, str]] = {
    "Secret": {("type",): TEXT, ("data",): TEXT_MAP, ("stringData",): TEXT_MAP},
    "BackupStorageLocation": {
        ("spec", "provider"): TEXT, ("spec", "objectStorage"): MAP, ("spec", "objectStorage", "bucket"): TEXT,
        ("spec", "objectStorage", "prefix"): TEXT, ("spec", "credential"): MAP, ("spec", "credential", "name"): TEXT,
        ("spec", "credential", "key"): TEXT, ("status", "phase"): TEXT},
    "VolumeSnapshotLocation": {
        ("spec", "provider"): TEXT, ("spec", "credential"): MAP, ("spec", "credential", "name"): TEXT,
        ("spec", "credential", "key"): TEXT},
    "Schedule": {
        ("spec", "schedule"): TEXT, ("spec", "paused"): FLAG, ("spec", "template"): MAP,
        ("spec", "template", "storageLocation"): TEXT, ("spec", "template", "ttl"): TEXT,
        ("spec", "template", "volumeSnapshotLocations"): TEXTS, ("spec", "template", "includedNamespaces"): TEXTS,
        ("spec", "template", "excludedNamespaces"): TEXTS, ("status", "phase"): TEXT, ("status", "lastBackup"): TIME},
    "Backup": {
        ("spec", "storageLocation"): TEXT, ("spec", "ttl"): TEXT, ("spec", "includedNamespaces"): TEXTS,
        ("spec", "excludedNamespaces"): TEXTS, ("status", "phase"): TEXT, ("status", "startTimestamp"): TIME,
        ("status", "completionTimestamp"): TIME, ("status", "expiration"): TIME},
    "Restore": {
        ("spec", "scheduleName"): TEXT, ("spec", "backupName"): TEXT, ("spec", "includedNamespaces"): TEXTS,
        ("spec", "namespaceMapping"): TEXT_MAP, ("status", "phase"): TEXT},
    "Deployment": {
        ("spec", "replicas"): NUMBER, ("spec", "template"): MAP, ("spec", "template", "spec"): MAP,
        ("spec", "template", "spec", "containers"): CONTAINERS,
        ("spec", "template", "spec", "initContainers"): CONTAINERS, ("status", "readyReplicas"): NUMBER},
    "DaemonSet": {("status", "numberReady"): NUMBER, ("status", "desiredNumberScheduled"): NUMBER},
}
COMMON: dict[tuple, str] = {
    ("apiVersion",): TEXT, ("metadata", "resourceVersion"): TEXT,
    ("metadata", "uid"): TEXT, ("metadata", "generation"): NUMBER, ("metadata", "labels"): TEXT_MAP,
    ("metadata", "annotations"): TEXT_MAP, ("metadata", "creationTimestamp"): TIME,
    ("metadata", "deletionTimestamp"): TIME, ("spec",): MAP, ("status",): MAP,
}


class ShapeError(Exception):
    """One field of an object is missing or of the wrong type; `path` leads to it from the object."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.path = path


def check_object(obj: dict) -> None:
    """Raise ShapeError for the first field of `obj` that a diff or plan could not read."""
    kind = obj.get("kind")
    if "kind" not in obj:
        raise ShapeError("an object needs a kind")
    if not isinstance(kind, str) or not kind:
        raise ShapeError(f"must be non-empty text, not {_what(kind)}", ("kind",))
    meta = obj.get("metadata")
    if "metadata" not in obj:
        raise ShapeError("an object needs metadata with a name")
    if not isinstance(meta, dict):
        raise ShapeError(f"must be a mapping with a name, not {_what(meta)}", ("metadata",))
    if "name" not in meta:
        raise ShapeError("needs a name", ("metadata",))
    for key in ("name", "namespace"):
        if key in meta and not _is_name(meta[key]):
            raise ShapeError(f"must be a Kubernetes name (at most 253 characters, no spaces or '/'), not "
                             f"{_what(meta[key])}", ("metadata", key))
    for path, want in (COMMON | FIELDS.get(kind, {})).items():
        value, found = _get(obj, path)
        if found and value is not None:
            _check(value, want, path)


def _check(value, want: str, path: tuple) -> None:
    """Raise ShapeError at the deepest path that is wrong: the label, not the labels."""
    if want in (TEXTS, CONTAINERS) and isinstance(value, list):
        item = TEXT if want == TEXTS else "a container (a mapping whose image is text)"
        for i, v in enumerate(value):
            if not (isinstance(v, str) if want == TEXTS else isinstance(v, dict) and _is(v.get("image", ""), TEXT)):
                raise ShapeError(f"must be {item}, not {_what(v)}", path + (i,))
    elif want == TEXT_MAP and isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, str):
                raise ShapeError(f"must be text, not {_what(v)}", path + (k,))
    elif not _is(value, want):
        raise ShapeError(f"must be {want}, not {_what(value)}", path)


def _is_name(value) -> bool:
    """What an API server allows in any kind's name (most kinds allow less): it reaches plans and terminals."""
    return isinstance(value, str) and 0 < len(value) <= 253 and value.isprintable() and \
        not any(c.isspace() or c == "/" for c in value)


def _get(obj: dict, path: tuple) -> tuple[object, bool]:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None, False  # a missing parent, or one of the wrong type, is reported on its own path
        obj = obj[key]
    return obj, True


def _is(value, want: str) -> bool:
    if want == TEXT:
        return isinstance(value, str)
    if want == NUMBER:
        return isinstance(value, int) and not isinstance(value, bool)
    if want == FLAG:
        return isinstance(value, bool)
    if want == MAP:
        return isinstance(value, dict)
    if want in (TEXTS, CONTAINERS):
        return isinstance(value, list)  # items: see _check
    if want == TEXT_MAP:
        return isinstance(value, dict)
    return isinstance(value, str) and _is_time(value)


def _is_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _what(value) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "nothing"}
    kind = names.get(type(value), type(value).__name__)
    return kind if isinstance(value, (dict, list, type(None))) else f"{kind} {clip(value, 40)}"
