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


@dataclass
class LiveState:
    """Objects as read (status included). `source` says where from, for messages."""

    source: str
    objects: dict[Address, dict] = field(default_factory=dict)
    namespaces: dict[str, dict] = field(default_factory=dict)
    others: list[dict] = field(default_factory=list)  # kinds the plan does not diff (Deployments, ...)

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

    def get(self, address: Address) -> dict | None:
        return self.objects.get(address)

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [o for a, o in self.objects.items()
                if a.kind == kind and (namespace is None or a.namespace == namespace)]

    def backups_by_schedule(self, namespace: str) -> Counter:
        return Counter(((o["metadata"].get("labels") or {}).get(SCHEDULE_NAME_LABEL))
                       for o in self.of_kind("Backup", namespace))

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
