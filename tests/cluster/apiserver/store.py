"""The cluster's state: objects by resource, a global resourceVersion, an event history, watchers.

Every write (HTTP or in-process, e.g. the Velero simulator) goes through admission, so both meet the same
schema checks. Objects are stored with their JSON encoding, made once per write; readers get copies.
"""
from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from . import errors, managed
from .admission import admit, copy_json
from .builtins import BUILTIN_TYPES
from .errors import ApiError
from .events import EventLog
from .meta import format_time
from .paging import decode_continue, encode_continue
from .patch import merge_patch
from .resources import CRD_GVR, GVR, NAMESPACES, ResourceType, types_from_crd
from .selectors import Predicate, parse_label_selector
from .watchers import Watcher

__all__ = ["GVR", "ApiError", "Store", "WriteResult"]
Callback = Callable[[str, GVR, dict], None]
Hook = Callable[[ResourceType, "dict | None", dict], None]


class _Entry:
    """A stored object and its JSON; never mutated once stored (snapshots share entries)."""

    __slots__ = ("obj", "raw")

    def __init__(self, obj: dict) -> None:
        self.obj = obj
        self.raw = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class WriteResult:
    """What a write did: the object as stored (or as it would be, for a dry run)."""

    raw: bytes
    warnings: list[str] = field(default_factory=list)
    created: bool = False
    deleted: bool = True

    def obj(self) -> dict:
        return json.loads(self.raw)


def _key(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace is not None else name


class Store:
    """Thread-safe object store with kube semantics; see tests/cluster/README.md."""

    def __init__(self, clock, *, history: int = 50_000, snapshots: int = 64) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._rv = 0
        self._types: dict[GVR, ResourceType] = {}
        self._data: dict[GVR, dict[str, _Entry]] = {}
        self._keys: dict[GVR, list[str]] = {}
        self.events = EventLog(self._lock, history)
        self._snapshots: OrderedDict[tuple[GVR, int], tuple[list[str], dict[str, _Entry]]] = OrderedDict()
        self._snapshot_size = snapshots
        for rt in BUILTIN_TYPES:
            self._register(rt)

    # ----- resource types
    def _register(self, rt: ResourceType) -> None:
        self._types[rt.gvr] = rt
        self._data.setdefault(rt.gvr, {})
        self._keys.setdefault(rt.gvr, [])

    def types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def resource_type(self, gvr: GVR) -> ResourceType:
        """The served type for gvr; 404 like a real server for anything it does not serve."""
        rt = self._types.get(tuple(gvr))
        if rt is None:
            raise errors.no_such_path()
        return rt

    def register_crd(self, crd: dict) -> dict:
        """Create a CRD object (established at once) and start serving its resources."""
        with self._lock:
            stored = self.create(CRD_GVR, None, crd)
            names = stored["spec"]["names"]
            status = {"acceptedNames": {k: v for k, v in names.items() if k != "listKind"} | {
                          "listKind": names.get("listKind", names["kind"] + "List")},
                      "conditions": [{"type": t, "status": "True", "reason": r, "message": m,
                                      "lastTransitionTime": format_time(self.clock.now())}
                                     for t, r, m in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                                     ("Established", "InitialNamesAccepted",
                                                      "the initial names have been accepted"))],
                      "storedVersions": [v["name"] for v in stored["spec"]["versions"] if v.get("storage")]}
            stored = self.patch_status(CRD_GVR, None, stored["metadata"]["name"], status)
            for rt in types_from_crd(stored):
                self._register(rt)
            return stored

    # ----- reads
    def get(self, gvr: GVR, namespace: str | None, name: str) -> dict:
        """A copy of the object; ApiError 404 NotFound."""
        return json.loads(self.get_entry(gvr, namespace, name).raw)

    def get_entry(self, gvr: GVR, namespace: str | None, name: str) -> _Entry:
        with self._lock:
            rt = self.resource_type(gvr)
            entry = self._data[rt.gvr].get(_key(namespace if rt.namespaced else None, name))
            if entry is None:
                raise errors.not_found(rt.plural, rt.group, name)
            return entry

    def list(self, gvr: GVR, namespace: str | None = None,
             label_selector: str | dict | None = None) -> tuple[list[dict], str]:
        """(copies of the matching objects, the list resourceVersion)."""
        page = self.list_entries(gvr, namespace, label_selector=parse_label_selector(label_selector))
        return json.loads(b"[" + b",".join(e.raw for e in page.entries) + b"]"), page.resource_version

    def list_entries(self, gvr: GVR, namespace: str | None = None, *, label_selector: Predicate | None = None,
                     field_selector: Predicate | None = None, name: str | None = None, limit: int | None = None,
                     continue_token: str | None = None) -> "Page":
        """One page of a LIST in key order; continuing pages read the snapshot the first page saw."""
        with self._lock:
            rt = self.resource_type(gvr)
            rv = self._rv
            keys, data = self._keys[rt.gvr], self._data[rt.gvr]
            if continue_token:
                rv, start = decode_continue(continue_token)
                if rv < self.events.compacted:
                    raise errors.expired("The provided continue parameter is too old to display a consistent "
                                         "list result. You can start a new list without the continue parameter.")
                keys, data = self._snapshots.get((rt.gvr, rv), (keys, data))
            else:
                start = ""
            ns = namespace if rt.namespaced else None
            if name is not None:
                if ns is None and rt.namespaced:
                    keys = [k for k in keys if k.rsplit("/", 1)[-1] == name]
                else:
                    keys = [_key(ns, name)] if _key(ns, name) in data else []
                lo, hi = 0, len(keys)
            else:
                lo = bisect.bisect_left(keys, f"{ns}/") if ns is not None else 0
                hi = bisect.bisect_left(keys, f"{ns}0") if ns is not None else len(keys)
            if start:
                lo = max(lo, bisect.bisect_left(keys, start))
            selected: list[_Entry] = []
            index = lo
            while index < hi and (limit is None or len(selected) < limit):
                entry = data[keys[index]]
                index += 1
                if (label_selector is None or label_selector(entry.obj)) and (
                        field_selector is None or field_selector(entry.obj)):
                    selected.append(entry)
            token, remaining = "", None
            if index < hi:
                token = encode_continue(rv, keys[index - 1] + "\x00")
                if label_selector is None and field_selector is None:
                    remaining = hi - index
                if not continue_token and name is None:
                    self._snapshot(rt.gvr, rv)
            return Page(rt, selected, str(rv), token, remaining)

    def _snapshot(self, gvr: GVR, rv: int) -> None:
        if (gvr, rv) not in self._snapshots:
            self._snapshots[(gvr, rv)] = (list(self._keys[gvr]), dict(self._data[gvr]))
            while len(self._snapshots) > self._snapshot_size:
                self._snapshots.popitem(last=False)

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    # ----- writes
    def create(self, gvr: GVR, namespace: str | None, obj: dict, *, dry_run: bool = False) -> dict:
        """Create; 409 AlreadyExists, 404 when the namespace is missing, 422 when invalid."""
        return self.create_raw(gvr, namespace, obj, dry_run=dry_run).obj()

    def create_raw(self, gvr: GVR, namespace: str | None, obj: dict, *, dry_run: bool = False,
                   field_validation: str = "Ignore", manager: str | None = None,
                   hooks: Hook | None = None) -> WriteResult:
        """create() with the HTTP options; `manager` records managedFields, `hooks` may rewrite them."""
        with self._lock:
            rt = self.resource_type(gvr)
            ns = namespace if rt.namespaced else None
            now = self.clock.now()
            admitted = admit(rt, ns, obj, None, mode="create", field_validation=field_validation, now=now)
            new = admitted.obj
            if hooks:
                hooks(rt, None, new)
            elif manager:
                managed.record_update(rt, None, new, manager, "", now)
            if ns is not None and _key(None, ns) not in self._data[NAMESPACES]:
                raise errors.not_found("namespaces", "", ns)
            key = _key(ns, new["metadata"]["name"])
            if key in self._data[rt.gvr]:
                raise errors.already_exists(rt.plural, rt.group, new["metadata"]["name"])
            if dry_run:
                return WriteResult(_Entry(new).raw, admitted.warnings, created=True, deleted=False)
            entry = self._commit(rt, key, new, "ADDED", None)
        self.events.dispatch()
        return WriteResult(entry.raw, admitted.warnings, created=True, deleted=False)

    def replace(self, gvr: GVR, namespace: str | None, name: str, obj: dict, *, dry_run: bool = False) -> dict:
        """Update the main resource; 409 Conflict on a stale metadata.resourceVersion."""
        return self.update_raw(gvr, namespace, name, lambda old: obj, dry_run=dry_run).obj()

    def replace_status(self, gvr: GVR, namespace: str | None, name: str, obj: dict) -> dict:
        """Update through /status semantics: only status changes."""
        return self.update_raw(gvr, namespace, name, lambda old: obj, subresource="status").obj()

    def patch_status(self, gvr: GVR, namespace: str | None, name: str, status_patch: dict) -> dict:
        """Merge-patch .status (the Velero simulator's way of reporting)."""
        def patched(old: dict) -> dict:
            new = copy_json(old)
            new["status"] = merge_patch(old.get("status") or {}, status_patch)
            return new
        return self.update_raw(gvr, namespace, name, patched, subresource="status").obj()

    def update_raw(self, gvr: GVR, namespace: str | None, name: str, make: Callable[[dict], object], *,
                   subresource: str = "", dry_run: bool = False, field_validation: str = "Ignore",
                   manager: str | None = None, hooks: Hook | None = None) -> WriteResult:
        """Compute the new object from the stored one with `make` (under the lock) and write it.

        A write that changes nothing keeps resourceVersion and sends no event, as a real server does.
        """
        with self._lock:
            rt, ns, key, current = self._stored(gvr, namespace, name)
            old = json.loads(current.raw)
            body = make(old)
            now = self.clock.now()
            admitted = admit(rt, ns, body, current.obj, mode=subresource or "update",
                             field_validation=field_validation, now=now, url_name=name)
            new = admitted.obj
            if hooks:
                hooks(rt, current.obj, new)
            elif manager:
                managed.record_update(rt, current.obj, new, manager, subresource, now)
            new["metadata"]["resourceVersion"] = current.obj["metadata"]["resourceVersion"]
            if new == current.obj:
                return WriteResult(current.raw, admitted.warnings, deleted=False)
            finished = bool(new["metadata"].get("deletionTimestamp")) and not new["metadata"].get("finalizers")
            if dry_run:
                return WriteResult(_Entry(new).raw, admitted.warnings, deleted=False)
            entry = self._commit(rt, key, new, "DELETED" if finished else "MODIFIED", current)
        self.events.dispatch()
        return WriteResult(entry.raw, admitted.warnings, deleted=finished)

    def _stored(self, gvr: GVR, namespace: str | None, name: str):
        """(resource type, namespace as stored, key, entry) of an existing object; 404 otherwise. Hold the lock."""
        rt = self.resource_type(gvr)
        ns = namespace if rt.namespaced else None
        key = _key(ns, name)
        current = self._data[rt.gvr].get(key)
        if current is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return rt, ns, key, current

    def delete(self, gvr: GVR, namespace: str | None, name: str, *, dry_run: bool = False,
               preconditions: dict | None = None) -> dict:
        """Delete (or, with finalizers, mark for deletion); returns the object as last stored."""
        return self.delete_raw(gvr, namespace, name, dry_run=dry_run, preconditions=preconditions).obj()

    def delete_raw(self, gvr: GVR, namespace: str | None, name: str, *, dry_run: bool = False,
                   preconditions: dict | None = None) -> WriteResult:
        with self._lock:
            rt, ns, key, current = self._stored(gvr, namespace, name)
            meta = current.obj["metadata"]
            for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                wanted = (preconditions or {}).get(field_name)
                if wanted and wanted != meta.get(field_name):
                    raise errors.conflict(rt.plural, rt.group, name, f"Precondition failed: {label} in "
                                          f"precondition: {wanted}, {label} in object meta: {meta.get(field_name)}")
            if dry_run:
                return WriteResult(current.raw, deleted=not meta.get("finalizers"))
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return WriteResult(current.raw, deleted=False)
                new = json.loads(current.raw)
                new["metadata"]["deletionTimestamp"] = format_time(self.clock.now())
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if rt.has_generation:
                    new["metadata"]["generation"] = meta.get("generation", 1) + 1
                entry = self._commit(rt, key, new, "MODIFIED", current)
                deleted = False
            else:
                if rt.gvr == NAMESPACES:
                    self._empty_namespace(name)
                entry = self._commit(rt, key, json.loads(current.raw), "DELETED", current)
                deleted = True
        self.events.dispatch()
        return WriteResult(entry.raw, deleted=deleted)

    def _empty_namespace(self, namespace: str) -> None:
        for gvr, rt in list(self._types.items()):
            if not rt.namespaced:
                continue
            keys = self._keys[gvr]
            lo, hi = bisect.bisect_left(keys, f"{namespace}/"), bisect.bisect_left(keys, f"{namespace}0")
            for key in keys[lo:hi]:
                current = self._data[gvr][key]
                self._commit(rt, key, json.loads(current.raw), "DELETED", current)

    def _commit(self, rt: ResourceType, key: str, new: dict, event: str, old: _Entry | None) -> _Entry:
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        entry = _Entry(new)
        data, keys = self._data[rt.gvr], self._keys[rt.gvr]
        if event == "DELETED":
            del data[key]
            del keys[bisect.bisect_left(keys, key)]
        else:
            if key not in data:
                bisect.insort(keys, key)
            data[key] = entry
        self.events.record(self._rv, event, rt.gvr, entry, old)
        return entry

    # ----- change notification
    def watch(self, gvr: GVR, namespace: str | None = None, resource_version: str | None = None, *,
              label_selector: Predicate | None = None, field_selector: Predicate | None = None) -> Watcher:
        """A watcher fed with every later event (after replaying history since resource_version)."""
        with self._lock:
            rt = self.resource_type(gvr)
            watcher = Watcher(rt.gvr, namespace if rt.namespaced else None, label_selector, field_selector)
            if resource_version in (None, "", "0"):
                page = self.list_entries(gvr, namespace, label_selector=label_selector,
                                         field_selector=field_selector)
                for entry in page.entries:
                    watcher.push("ADDED", entry)
            else:
                try:
                    since = int(resource_version)
                except ValueError:
                    raise errors.bad_request(f'invalid resource version: "{resource_version}"') from None
                self.events.replay(watcher, since)
            self.events.add(watcher)
            return watcher

    def close_watchers(self) -> None:
        self.events.close_watchers()

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call callback(event_type, gvr, obj) after every committed change; returns the unsubscribe."""
        return self.events.subscribe(callback)


@dataclass
class Page:
    rt: ResourceType
    entries: list[_Entry]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None
