"""What the reliability tests check a cluster against: a policy's objects, each whole, none twice, nothing lost."""
from __future__ import annotations

import os

from engine.model.manifest import LAST_APPLIED
from tests.helpers import EXAMPLES, HARNESS_ENV, seed_backup

DEEP = os.environ.get("SNAPPLAN_DEEP") == "1"  # the long runs (100 crash trials instead of 15)
HARNESS = str(EXAMPLES / "harness" / "policy.yaml")
# No Velero runs behind these clusters (nothing validates a location) and the harness buckets are not real.
APPLY = ("apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f")
GVR = {"Secret": ("", "v1", "secrets"), "BackupStorageLocation": ("velero.io", "v1", "backupstoragelocations"),
       "VolumeSnapshotLocation": ("velero.io", "v1", "volumesnapshotlocations"),
       "Schedule": ("velero.io", "v1", "schedules"), "Restore": ("velero.io", "v1", "restores"),
       "Backup": ("velero.io", "v1", "backups"), "Lease": ("coordination.k8s.io", "v1", "leases")}
MANAGED = ("app.kubernetes.io/managed-by", "snapplan")
WRITES = ("create", "update", "patch", "delete", "deletecollection")


def seed_harness(cluster) -> None:
    """The harness restores the newest Completed backup of nightly-full: give the cluster one."""
    seed_backup(cluster.store, "nightly-full-20261124230000", "nightly-full")


def harness_desired():
    from engine.planner import prepare

    return prepare(HARNESS, HARNESS_ENV).desired


def objects(store, kind: str, namespace: str = "velero") -> list[dict]:
    return store.list(GVR[kind], namespace)[0]


def inventory(store) -> dict[str, list[str]]:
    """Names of every object of the kinds snapplan reads or writes, by kind (a list: a duplicate would show)."""
    return {k: sorted(o["metadata"]["name"] for o in objects(store, k)) for k in GVR}


def is_managed(obj: dict) -> bool:
    return (obj["metadata"].get("labels") or {}).get(MANAGED[0]) == MANAGED[1]


def half_made(store, desired) -> list[str]:
    """Objects of the policy present in the cluster without snapplan's label or its last-applied record."""
    wrong = []
    for addr in desired.objects:
        for obj in objects(store, addr.kind, addr.namespace):
            recorded = LAST_APPLIED in (obj["metadata"].get("annotations") or {})
            if obj["metadata"]["name"] == addr.name and not (is_managed(obj) and recorded):
                wrong.append(str(addr))
    return wrong


def assert_equals_policy(store, desired, before: dict[str, list[str]]) -> None:
    """Every object of the policy is there and whole; no other object appeared or went away; the lock is gone.

    `before`: the inventory ahead of the first apply (the cluster's own Secret, the seeded Backup).
    """
    now = inventory(store)
    for kind, names in now.items():
        wanted = sorted(set(before[kind]) | {a.name for a in desired.objects if a.kind == kind})
        assert names == ([] if kind == "Lease" else wanted), (kind, names, wanted)
    assert half_made(store, desired) == []


def writes(cluster, before: dict | None = None) -> int:
    """Write requests the API server received for anything but the lock's Lease (since `before`)."""
    now = cluster.requests.snapshot()
    return sum(n - (before or {}).get(k, 0) for k, n in now.items() if k[0] in WRITES and k[1] != "leases")
