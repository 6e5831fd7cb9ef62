"""LiveState: the objects snapplan reads, indexed by address, plus what it needs to know about backups."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from engine.addr import KINDS, Address

SCHEDULE_NAME_LABEL = "velero.io/schedule-name"
STORAGE_LOCATION_LABEL = "velero.io/storage-location"
# Backups Velero's sync removes when their location no longer holds them (deleteOrphanedBackups).
SYNC_DELETES_PHASES = ("Completed", "PartiallyFailed")


def label_value(name: str) -> str:
    """Velero's label.GetValidName: a name longer than 63 characters is cut to 57 plus 6 hex of its sha256."""
    if len(name) <= 63:
        return name
    return name[:57] + hashlib.sha256(name.encode()).hexdigest()[:6]

# Metadata the API server rewrites on any write (a status update included): not content.
_NOT_CONTENT = ("resourceVersion", "managedFields", "generation")


def content_view(obj: dict) -> dict:
    """What an object holds apart from its status and the server's bookkeeping: Velero rewrites a location's
    status at every validation, which bumps resourceVersion without changing anything a plan acts on."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _NOT_CONTENT}
    return {"metadata": meta, **{k: v for k, v in obj.items() if k not in ("status", "metadata")}}


def content_parts(obj: dict) -> tuple[tuple[str, str], ...]:
    """content_view split into named parts (uid, labels, annotations, other metadata, spec, data, ...), each
    hashed: what a guarded delete compares, and names when they differ. Never printed (a Secret's data)."""
    view = content_view(obj)
    meta = dict(view.pop("metadata"))
    parts = {"uid": str(meta.pop("uid", "")), "labels": meta.pop("labels", None),
             "annotations": meta.pop("annotations", None), "metadata": meta, **view}
    return tuple(sorted((k, hashlib.sha256(json.dumps(v, sort_keys=True, default=str).encode()).hexdigest())
                        for k, v in parts.items()))



def _dropping(name: str):
    """dict's method `name`, dropping the owner's index first."""
    def method(self, *args, **kwargs):
        self.owner._index = None
        return getattr(dict, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


class _Objects(dict):
    """Objects by address. Every change drops its owner's index: the state-file writer edits them in place."""

    __slots__ = ("owner",)

    def __init__(self, owner: "LiveState", items=()):
        super().__init__(items)
        self.owner = owner

    def __setitem__(self, key, value):
        self.owner._index = None
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.owner._index = None
        super().__delitem__(key)

    pop = _dropping("pop")
    popitem = _dropping("popitem")
    clear = _dropping("clear")
    update = _dropping("update")
    setdefault = _dropping("setdefault")


@dataclass
class LiveState:
    """Objects as read (status included). `source` says where from, for messages."""

    source: str
    objects: dict[Address, dict] = field(default_factory=dict)
    namespaces: dict[str, dict] = field(default_factory=dict)
    others: list[dict] = field(default_factory=list)  # kinds the plan does not diff (Deployments, ...)
    # (kind, namespace) -> objects, and (namespace) -> schedule name -> Backups; built on first use, dropped on
    # any change to `objects`, so that per-restore and per-schedule questions cost no pass over 100k Backups.
    _index: dict | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.objects = _Objects(self, self.objects)

    def add(self, obj: dict, default_namespace: str) -> None:
        kind = obj.get("kind")
        meta = obj.setdefault("metadata", {})
        if kind == "Namespace":
            self.namespaces[meta["name"]] = obj
        elif kind in KINDS:
            meta.setdefault("namespace", default_namespace)
            self.objects[Address.of(obj)] = obj
        else:
            self.others.append(obj)

    def add_list(self, kind: str, items: list[dict], default_namespace: str) -> None:
        """add() for every item of one LIST of `kind`: the same result, in one pass that also fills the index
        (at 100k Backups the per-object cost is what the plan pays beyond parsing)."""
        if kind not in KINDS:
            for obj in items:
                self.add(obj, default_namespace)
            return
        index = self._by_kind()
        by_kind, store, new = index["kind"], dict.__setitem__, object.__new__
        objects, relisted = self.objects, False
        index["schedule"].clear()
        for obj in items:
            meta = obj.get("metadata")
            if meta is None:
                meta = obj["metadata"] = {}
            if "namespace" not in meta:
                meta["namespace"] = default_namespace
            ns = meta["namespace"]
            addr = new(Address)  # Address(kind, ns, name), without checking the (known) kind per object
            fields = addr.__dict__
            fields["kind"], fields["namespace"], fields["name"] = kind, ns, meta["name"]
            if addr in objects:
                relisted = True  # a name listed twice: the later one wins, as with add(); index rebuilt below
            else:
                bucket = by_kind.get((kind, ns))
                if bucket is None:
                    bucket = by_kind[(kind, ns)] = []
                bucket.append(obj)
            store(objects, addr, obj)
        self._index = None if relisted else index

    def get(self, address: Address) -> dict | None:
        return self.objects.get(address)

    def _by_kind(self) -> dict:
        if self._index is None:
            index: dict = {}
            for a, o in self.objects.items():
                index.setdefault((a.kind, a.namespace), []).append(o)
            self._index = {"kind": index, "schedule": {}}
        return self._index

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict]:
        index = self._by_kind()["kind"]
        if namespace is not None:
            return list(index.get((kind, namespace), ()))
        return [o for (k, _), objs in index.items() if k == kind for o in objs]

    def _schedules(self, namespace: str) -> dict[str | None, list[dict]]:
        index = self._by_kind()
        by_schedule = index["schedule"].get(namespace)
        if by_schedule is None:
            by_schedule = index["schedule"][namespace] = {}
            for o in index["kind"].get(("Backup", namespace), ()):
                label = (o["metadata"].get("labels") or {}).get(SCHEDULE_NAME_LABEL)
                bucket = by_schedule.get(label)
                if bucket is None:
                    bucket = by_schedule[label] = []
                bucket.append(o)
        return by_schedule

    def backups_of_schedule(self, namespace: str, schedule: str) -> list[dict]:
        """The Backups in `namespace` that carry Velero's schedule-name label for `schedule`."""
        return list(self._schedules(namespace).get(schedule, ()))

    def backups_by_schedule(self, namespace: str) -> Counter:
        return Counter({name: len(backups) for name, backups in self._schedules(namespace).items()})

    def orphanable_backups(self, namespace: str, location: str) -> int:
        """Backups Velero's backup sync deletes if the location's bucket/prefix no longer holds them: those
        labelled with the location, Completed or PartiallyFailed (backup_sync_controller.go
        deleteOrphanedBackups selects by the label, not by spec.storageLocation)."""
        value = label_value(location)
        return sum(1 for o in self.of_kind("Backup", namespace)
                   if (o["metadata"].get("labels") or {}).get(STORAGE_LOCATION_LABEL) == value
                   and (o.get("status") or {}).get("phase") in SYNC_DELETES_PHASES)

    def resource_versions(self) -> dict[str, str]:
        return {f"{a.namespace}/{a}": o["metadata"].get("resourceVersion", "")
                for a, o in self.objects.items() if a.kind != "Backup"}
