"""LiveState: the objects snapplan reads, indexed by address, plus what it needs to know about backups."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from engine.addr import KINDS, Address

SCHEDULE_NAME_LABEL = "velero.io/schedule-name"


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

    def resource_versions(self) -> dict[str, str]:
        return {f"{a.namespace}/{a}": o["metadata"].get("resourceVersion", "")
                for a, o in self.objects.items() if a.kind != "Backup"}
