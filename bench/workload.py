"""The benchmark's cluster at size N: a policy of matching size, and the objects a cluster holds after that
policy was applied and its schedules ran for a while (mostly Backups).

Deterministic and monotone: the objects for a smaller N are a subset of those for a larger one, so one cluster
can be grown from 1,000 to 10,000 to 50,000 objects between measurements.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

NAMESPACE = "velero"
POLICY_NAME = "bench"
SCHEDULES_PER_APP = 20
BASE = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
CREDENTIALS = b"[default]\naws_access_key_id = AKIABENCH000000000001\naws_secret_access_key = benchSecret0001\n"


@dataclass(frozen=True)
class Shape:
    """A workload's policy: how many schedules, locations, snapshot locations and restores it holds. The
    cluster's other objects are Backups, as many as it takes to reach N objects."""

    name: str
    schedules: int
    storage: int
    snapshot_locations: int
    restores: int  # every one `from: {schedule}`: each is resolved against all Backups at plan time

    @property
    def apps(self) -> int:
        return math.ceil(self.schedules / SCHEDULES_PER_APP)

    @property
    def config_objects(self) -> int:
        return 2 * self.storage + self.snapshot_locations + self.schedules + self.restores  # 2x: each has a Secret


# (A) realistic: a team's 50 schedules over many Backups; (B) a large policy: 1,000 schedules, 200 locations.
WORKLOAD_A = Shape("A", schedules=50, storage=5, snapshot_locations=1, restores=50)
WORKLOAD_B = Shape("B", schedules=1000, storage=200, snapshot_locations=10, restores=50)


def scaled(n: int) -> Shape:
    """A policy that grows with the cluster (a schedule per 50 objects, a location per 10 schedules, a restore
    per 100 objects): the per-cluster shape of the fleet benchmark."""
    schedules = max(2, n // 50)
    return Shape("scaled", schedules=schedules, storage=math.ceil(schedules / 10),
                 snapshot_locations=max(1, n // 1000), restores=max(1, n // 100))


@dataclass(frozen=True)
class Sizes:
    """A cluster of N objects of one workload's shape, and what the planned policy changes."""

    n: int
    shape: Shape

    @classmethod
    def of(cls, n: int, shape: Shape = WORKLOAD_A) -> "Sizes":
        if n <= shape.config_objects:
            raise ValueError(f"workload {shape.name} needs more than {shape.config_objects} objects, not {n}")
        return cls(n, shape)

    schedules = property(lambda self: self.shape.schedules)
    storage = property(lambda self: self.shape.storage)
    snapshot_locations = property(lambda self: self.shape.snapshot_locations)
    restores = property(lambda self: self.shape.restores)
    apps = property(lambda self: self.shape.apps)

    @property
    def backups(self) -> int:
        return self.n - self.shape.config_objects

    @property
    def objects(self) -> int:
        return self.n

    @property
    def new_schedules(self) -> int:
        return max(1, self.schedules // 50)

    @property
    def new_restores(self) -> int:
        """Restores the team added `from: {schedule}`: resolved at plan time against every Backup."""
        return self.restores

    def retention_changed(self, i: int) -> bool:
        return i % 25 == 7

    def storage_of(self, i: int) -> str:
        return f"loc-{i * self.storage // self.schedules:04d}"


def schedule_name(i: int) -> str:
    return f"sched-{i:05d}"


def _scope(i: int) -> dict:
    return {"scope": "full"} if i % 2 == 0 else {"scope": "application", "app": f"app-{i // SCHEDULES_PER_APP:04d}"}


def backup_name(j: int, sizes: Sizes) -> str:
    """Backup j belongs to schedule j mod S and ran j div S hours before BASE: the names of a smaller cluster
    of the same shape are a subset of a larger one's."""
    k, schedule = divmod(j, sizes.schedules)
    return f"{schedule_name(schedule)}-{(BASE - timedelta(hours=k)).strftime('%Y%m%d%H%M%S')}"


def policy_doc(sizes: Sizes, *, planned: bool) -> dict:
    """The policy; `planned` adds what the team changed since the last apply (new entries, retentions)."""
    apps = {f"app-{a:04d}": {"namespaces": [f"app-{a:04d}", f"app-{a:04d}-db"],
                             "labelSelector": {"app.kubernetes.io/part-of": f"app-{a:04d}"}}
            for a in range(sizes.apps)}
    storage = {f"loc-{s:04d}": {"type": "aws", "bucket": f"bench-backups-{s:04d}", "prefix": "cluster-a",
                                "region": "eu-west-1", "default": s == 0, "credentials": {"file": "./aws-credentials"}}
               for s in range(sizes.storage)}
    vsls = {f"vsl-{v:04d}": {"type": "aws", "region": "eu-west-1"} for v in range(sizes.snapshot_locations)}
    schedules = {schedule_name(i): _schedule(sizes, i, planned) for i in range(sizes.schedules)}
    if planned:
        schedules.update({f"new-{k:05d}": _schedule(sizes, k, planned) for k in range(sizes.new_schedules)})
    restores = {f"restore-{r:05d}": {**_scope(r), "from": {"schedule": schedule_name(r)}}
                for r in range(sizes.restores)}
    if planned:
        for r in range(sizes.new_restores):
            restores[f"recover-{r:05d}"] = {"scope": "full", "from": {"schedule": schedule_name(2 * r % sizes.schedules)},
                                            "namespaceMapping": {"app-0000": f"app-0000-copy-{r}"}}
    return {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": POLICY_NAME},
            "veleroNamespace": NAMESPACE, "apps": apps, "storage": storage, "snapshotLocations": vsls,
            "schedules": schedules, "restores": restores}


def _schedule(sizes: Sizes, i: int, planned: bool) -> dict:
    entry = {**_scope(i), "storage": sizes.storage_of(i),
             "schedule": ("daily", "hourly", "weekly", "30 2 * * 1-5")[i % 4],
             "retention": "14d" if planned and sizes.retention_changed(i) else ("30d", "7d", "90d")[i % 3],
             "volumes": ("default", "filesystem", "snapshot", "none")[i % 4]}
    if i % 4 == 2:
        entry["snapshotLocation"] = f"vsl-{i * sizes.snapshot_locations // sizes.schedules:04d}"
    if i % 8 == 1:
        entry["timezone"] = "Europe/Berlin"
    return entry


def write_policy(directory: Path, sizes: Sizes, *, planned: bool) -> Path:
    """The policy file (and the credentials file it names); returns the policy's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "aws-credentials").write_bytes(CREDENTIALS)
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(policy_doc(sizes, planned=planned), sort_keys=False, width=120))
    return path


def applied_objects(policy_path: Path) -> list[dict]:
    """What `snapplan apply` wrote for this policy (Secrets, locations, Schedules, Restores), built by the
    engine itself so the benchmark's cluster is exactly one a real apply leaves behind."""
    from engine.model import build_desired
    from engine.model.manifest import to_manifest
    from engine.spec import load_policy

    policy, _ = load_policy(policy_path, strict_sources=True, env={})
    out = []
    for d in build_desired(policy, {}).objects.values():
        obj = to_manifest(d)
        if obj["kind"] == "Restore":
            obj["status"] = {"phase": "Completed", "startTimestamp": _ts(BASE), "completionTimestamp": _ts(BASE),
                             "progress": {"itemsRestored": 120, "totalItems": 120}}
        out.append(obj)
    return out


def backup(j: int, sizes: Sizes) -> dict:
    """Backup j, as a schedule's run leaves it (Velero's labels, spec from the template, a Completed status)."""
    k, schedule = divmod(j, sizes.schedules)
    started = BASE - timedelta(hours=k)
    spec = {"csiSnapshotTimeout": "10m0s", "defaultVolumesToFsBackup": False, "hooks": {},
            "includedNamespaces": ["*"], "itemOperationTimeout": "4h0m0s",
            "metadata": {"labels": {"snapplan.io/scope": "full"}},
            "storageLocation": sizes.storage_of(schedule), "ttl": "720h0m0s"}
    return {
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": backup_name(j, sizes), "namespace": NAMESPACE,
                     "labels": {"velero.io/schedule-name": schedule_name(schedule),
                                "velero.io/storage-location": spec["storageLocation"],
                                "snapplan.io/scope": "full"},
                     "annotations": {"velero.io/resource-timeout": "10m0s",
                                     "velero.io/source-cluster-k8s-gitversion": "v1.32.2",
                                     "velero.io/source-cluster-k8s-major-version": "1",
                                     "velero.io/source-cluster-k8s-minor-version": "32"}},
        "spec": spec,
        "status": {"phase": "Completed", "version": 1, "formatVersion": "1.1.0",
                   "startTimestamp": _ts(started), "completionTimestamp": _ts(started + timedelta(minutes=4)),
                   "expiration": _ts(started + timedelta(days=30)),
                   "progress": {"itemsBackedUp": 812, "totalItems": 812}, "warnings": 0},
    }


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


APPLY_NAMESPACE = "bench-apply"


def write_apply_policies(directory: Path, creates: int) -> tuple[Path, Path]:
    """Two policies for the apply measurement: one location (applied beforehand), and the same location plus
    `creates` Schedules that depend on nothing the plan changes, so all of them may run at once."""
    def doc(schedules: int) -> dict:
        return {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "bench-apply"},
                "veleroNamespace": APPLY_NAMESPACE,
                "storage": {"primary": {"type": "aws", "bucket": "bench-apply", "region": "eu-west-1",
                                        "default": True, "credentials": {"file": "./aws-credentials"}}},
                "schedules": {f"apply-{i:04d}": {"scope": "full", "schedule": "daily", "retention": "7d"}
                              for i in range(schedules)}}

    paths = []
    for name, schedules in (("base", 0), ("creates", creates)):
        d = directory / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "aws-credentials").write_bytes(CREDENTIALS)
        path = d / "policy.yaml"
        path.write_text(yaml.safe_dump(doc(schedules), sort_keys=False))
        paths.append(path)
    return paths[0], paths[1]
