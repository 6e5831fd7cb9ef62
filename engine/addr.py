"""Typed addresses: the plan key, the graph node id and the name in every message."""
from __future__ import annotations

from dataclasses import dataclass

# kind -> (address type, apiVersion, plural, rank). Rank orders kinds in plans and ready sets.
KINDS: dict[str, tuple[str, str, str, int]] = {
    "Secret": ("secret", "v1", "secrets", 0),
    "BackupStorageLocation": ("bsl", "velero.io/v1", "backupstoragelocations", 1),
    "VolumeSnapshotLocation": ("vsl", "velero.io/v1", "volumesnapshotlocations", 1),
    "Schedule": ("schedule", "velero.io/v1", "schedules", 2),
    "Restore": ("restore", "velero.io/v1", "restores", 3),
    "Backup": ("backup", "velero.io/v1", "backups", 4),
}
TYPE_TO_KIND = {v[0]: k for k, v in KINDS.items()}


@dataclass(frozen=True, order=True)
class Address:
    kind: str
    namespace: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")

    @property
    def type(self) -> str:
        return KINDS[self.kind][0]

    @property
    def api_version(self) -> str:
        return KINDS[self.kind][1]

    @property
    def plural(self) -> str:
        return KINDS[self.kind][2]

    @property
    def rank(self) -> int:
        return KINDS[self.kind][3]

    def sort_key(self) -> tuple:
        return (self.rank, self.type, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.type}.{self.name}"

    @classmethod
    def parse(cls, text: str, namespace: str) -> "Address":
        """`schedule.nightly-full` -> Address; ValueError naming the known types otherwise."""
        type_, _, name = text.partition(".")
        if type_ not in TYPE_TO_KIND or not name:
            raise ValueError(f"invalid address {text!r}: use TYPE.NAME with TYPE one of "
                             f"{', '.join(sorted(TYPE_TO_KIND))}")
        return cls(TYPE_TO_KIND[type_], namespace, name)

    @classmethod
    def of(cls, obj: dict) -> "Address":
        meta = obj.get("metadata") or {}
        return cls(obj["kind"], meta.get("namespace", ""), meta["name"])
