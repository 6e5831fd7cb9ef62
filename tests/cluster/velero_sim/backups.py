"""Backup controller: New -> InProgress (progress growing) -> Finalizing -> Completed, or
FailedValidation / Failed (pkg/controller/backup_controller.go, backup_finalizer_controller.go of v1.16).

What a backup "contains" is made up but deterministic: the namespaces it selects in the store, each with
10 + crc32(name) % 40 items. It takes 2 s plus 1 s per 25 items, then 1 s finalizing."""
from __future__ import annotations

import copy
import fnmatch
import gzip
import io
import json
import math
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .context import DEFAULT_TTL, Context
from .kube import BACKUP, BSL, NAMESPACE, STORAGE_LOCATION_LABEL
from .locations import is_available
from .objectstore import StorageError
from .times import format_duration, parse_duration, parse_time, rfc3339

FINALIZING = timedelta(seconds=1)
FORMAT_VERSION = "1.1.0"
SIM_MANIFEST = "snapplan-sim/items.json"


# pkg/controller/backup_controller.go (v1.17.1) prepareBackupRequest: the validation error, word for word.
MIXED_FILTERS = ("include-resources, exclude-resources and include-cluster-resources are old filter parameters.\n"
                 "include-cluster-scoped-resources, exclude-cluster-scoped-resources, include-namespace-scoped-resources "
                 "and exclude-namespace-scoped-resources are new filter parameters.\n"
                 "They cannot be used together")


def old_and_new_filters(spec: dict) -> bool:
    """backup_controller.go oldAndNewFilterParametersUsedTogether: an old filter (includedResources,
    excludedResources, includeClusterResources set) beside a new one (the cluster-/namespace-scoped lists)."""
    old = bool(spec.get("includedResources") or spec.get("excludedResources")) or \
        spec.get("includeClusterResources") is not None
    new = any(spec.get(k) for k in ("includedClusterScopedResources", "excludedClusterScopedResources",
                                    "includedNamespaceScopedResources", "excludedNamespaceScopedResources"))
    return old and new


def items_in_namespace(namespace: str) -> int:
    return 10 + zlib.crc32(namespace.encode()) % 40


def run_time(items: int) -> timedelta:
    return timedelta(seconds=2 + math.ceil(items / 25))


def select_namespaces(all_namespaces: list[str], included: list[str] | None, excluded: list[str] | None) -> list[str]:
    """Velero's include/exclude on namespace names: empty or '*' includes all; globs allowed."""
    inc = [n for n in (included or []) if n] or ["*"]
    exc = [n for n in (excluded or []) if n]
    names = set(all_namespaces) | {n for n in inc if not any(c in n for c in "*?[")}
    chosen = [n for n in sorted(names) if any(fnmatch.fnmatchcase(n, p) for p in inc)]
    return [n for n in chosen if not any(fnmatch.fnmatchcase(n, p) for p in exc)]


@dataclass(frozen=True)
class BackupPlan:
    namespaces: tuple[str, ...]
    start: datetime

    @property
    def total(self) -> int:
        return sum(items_in_namespace(n) for n in self.namespaces)

    @property
    def done_at(self) -> datetime:
        return self.start + run_time(self.total)

    def backed_up(self, now: datetime) -> int:
        span = (self.done_at - self.start).total_seconds()
        return min(self.total, int(self.total * (now - self.start).total_seconds() / span))


def contents_tarball(plan: BackupPlan) -> bytes:
    """A .tar.gz in Velero's layout for what the simulator restores: the Namespace objects."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(path: str, data: bytes) -> None:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = int(plan.start.timestamp())
            tar.addfile(info, io.BytesIO(data))

        add("metadata/version", FORMAT_VERSION.encode())
        for ns in plan.namespaces:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            add(f"resources/namespaces/cluster/{ns}.json", json.dumps(obj).encode())
        add(SIM_MANIFEST, json.dumps({ns: items_in_namespace(ns) for ns in plan.namespaces}).encode())
    return buf.getvalue()


def read_tarball(data: bytes) -> dict[str, int]:
    """Namespace -> item count recorded in a backup's contents."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(SIM_MANIFEST)
        return json.loads(member.read()) if member else {}


def metadata_json(backup: dict) -> dict:
    """The Backup as Velero stores it in velero-backup.json."""
    doc = copy.deepcopy(backup)
    doc["apiVersion"], doc["kind"] = "velero.io/v1", "Backup"
    doc["metadata"].pop("managedFields", None)
    return doc


class BackupController:
    def __init__(self, ctx: Context, default_location: str = "default", default_ttl: timedelta = DEFAULT_TTL) -> None:
        self.ctx = ctx
        self.default_location = default_location  # velero server --default-backup-storage-location
        self.default_ttl = default_ttl  # velero server --default-backup-ttl (pkg/cmd/server/config/config.go)

    def reconcile(self) -> None:
        for backup in self.ctx.kube.list(BACKUP):
            phase = (backup.get("status") or {}).get("phase", "")
            if phase in ("", "New"):
                backup = self._start(backup)
                phase = (backup or {}).get("status", {}).get("phase", "")
            if backup is not None and phase in ("InProgress", "Finalizing"):
                self._advance(backup)

    def restart(self) -> None:
        """What a Velero pod finds after a restart: work in flight is lost and marked Failed."""
        for backup in self.ctx.kube.list(BACKUP):
            phase = (backup.get("status") or {}).get("phase", "")
            if phase in ("InProgress",):
                status = dict(backup["status"])
                status.update(phase="Failed", completionTimestamp=rfc3339(self.ctx.now), failureReason=(
                    f'found a backup with status "{phase}" during the server starting, mark it as "Failed"'))
                self.ctx.kube.write_status(BACKUP, backup, status)

    # -- New -> InProgress | FailedValidation ------------------------------------------------------------
    def _start(self, backup: dict) -> dict | None:
        kube, now = self.ctx.kube, self.ctx.now
        updated = copy.deepcopy(backup)
        spec = updated.setdefault("spec", {})
        status = updated.setdefault("status", {})
        status.update(version=1, formatVersion=FORMAT_VERSION)
        # backup_controller.go prepareBackupRequest: a zero (or absent) ttl is the server's default; an
        # empty storageLocation is the location marked default (the first listed), else the server flag's.
        ttl = parse_duration(spec["ttl"]) if spec.get("ttl") else timedelta(0)
        if ttl == timedelta(0):
            ttl = self.default_ttl
            spec["ttl"] = format_duration(ttl)
        status["expiration"] = rfc3339(now + ttl)
        errors = []
        server_default = not spec.get("storageLocation")
        if server_default:
            spec["storageLocation"] = self.default_location
            for bsl in kube.list(BSL):
                if (bsl.get("spec") or {}).get("default"):
                    spec["storageLocation"] = bsl["metadata"]["name"]
                    break
        location = self.ctx.location(spec["storageLocation"])
        if location is None:
            which = "the server default" if server_default else "the default"
            errors.append(
                f"an existing backup storage location was not specified at backup creation time and {which} "
                f"{spec['storageLocation']} does not exist. Please address this issue (see `velero backup-location -h` "
                f"for options) and create a new backup. Error: backupstoragelocations.velero.io "
                f"\"{spec['storageLocation']}\" not found"
            )
        else:
            if (location.get("spec") or {}).get("accessMode") == "ReadOnly":
                errors.append(f"backup can't be created because backup storage location {spec['storageLocation']} "
                              "is currently in read-only mode")
            if not is_available(location):
                errors.append(f"backup can't be created because BackupStorageLocation {spec['storageLocation']} "
                              "is in Unavailable status.")
        if old_and_new_filters(spec):
            errors.append(MIXED_FILTERS)
        labels = updated["metadata"].setdefault("labels", {})
        labels[STORAGE_LOCATION_LABEL] = spec["storageLocation"][:63]
        if errors:
            status["phase"] = "FailedValidation"
            status["validationErrors"] = errors
        else:
            status["phase"] = "InProgress"
            status["startTimestamp"] = rfc3339(now)
            plan = BackupPlan(tuple(self._namespaces(spec)), now)
            status["progress"] = {"totalItems": plan.total, "itemsBackedUp": 0}
        written = kube.replace(BACKUP, updated)
        if written is not None and not errors:
            self.ctx.in_progress[written["metadata"].get("uid", written["metadata"]["name"])] = plan
        return written

    def _namespaces(self, spec: dict) -> list[str]:
        existing = [n["metadata"]["name"] for n in self.ctx.kube.list(NAMESPACE, namespace=None)]
        return select_namespaces(existing, spec.get("includedNamespaces"), spec.get("excludedNamespaces"))

    # -- InProgress -> Finalizing -> Completed | Failed ----------------------------------------------------
    def _advance(self, backup: dict) -> None:
        now = self.ctx.now
        uid = backup["metadata"].get("uid", backup["metadata"]["name"])
        plan = self.ctx.in_progress.get(uid)
        if not isinstance(plan, BackupPlan):
            if backup["status"]["phase"] == "Finalizing":
                self._finalize(backup, now)  # uploaded by an earlier Velero pod; only the finalizer is left
            return  # InProgress and not ours: restart() marked those Failed
        status = copy.deepcopy(backup["status"])
        if status["phase"] == "InProgress":
            if now < plan.done_at:
                done = plan.backed_up(now)
                if status.get("progress", {}).get("itemsBackedUp") != done:
                    status["progress"] = {"totalItems": plan.total, "itemsBackedUp": done}
                    self.ctx.kube.write_status(BACKUP, backup, status)
                return
            status["progress"] = {"totalItems": plan.total, "itemsBackedUp": plan.total}
            status["phase"] = "Finalizing"
            failure = self._persist(backup, status, plan)
            if failure:
                status.update(phase="Failed", failureReason=failure, completionTimestamp=rfc3339(plan.done_at))
                self.ctx.in_progress.pop(uid, None)
            written = self.ctx.kube.write_status(BACKUP, backup, status)
            if written is None or failure:
                return
            backup = written
        if now < plan.done_at + FINALIZING:
            return
        if self._finalize(backup, plan.done_at + FINALIZING):
            self.ctx.in_progress.pop(uid, None)

    def _finalize(self, backup: dict, at: datetime) -> bool:
        """Finalizing -> Completed: rewrite velero-backup.json with the final status, as Velero does."""
        status = copy.deepcopy(backup["status"])
        status["phase"] = "Completed"
        status["completionTimestamp"] = rfc3339(at)
        final = copy.deepcopy(backup)
        final["status"] = status
        try:
            store = self.ctx.backup_store(self.ctx.location(backup["spec"]["storageLocation"]) or {})
            store.put_backup_metadata(backup["metadata"]["name"], metadata_json(final))
        except StorageError as err:
            status.update(phase="Failed", failureReason=str(err))
        return self.ctx.kube.write_status(BACKUP, backup, status) is not None

    def _persist(self, backup: dict, status: dict, plan: BackupPlan) -> str:
        """Upload log, velero-backup.json and the tarball; the failure reason, or ''."""
        location = self.ctx.location(backup["spec"]["storageLocation"])
        if location is None:
            return f'backupstoragelocations.velero.io "{backup["spec"]["storageLocation"]}" not found'
        snapshot = copy.deepcopy(backup)
        snapshot["status"] = status
        name = backup["metadata"]["name"]
        log = gzip.compress(f'time="{rfc3339(plan.start)}" level=info msg="Backup completed" backup=velero/{name}\n'
                            .encode(), mtime=0)
        try:
            store = self.ctx.backup_store(location)
            store.put_backup(name, metadata_json(snapshot), contents_tarball(plan), log)
        except StorageError as err:
            return str(err)
        return ""

    def next_wakeup(self) -> datetime | None:
        times = []
        for backup in self.ctx.kube.list(BACKUP):
            plan = self.ctx.in_progress.get(backup["metadata"].get("uid", backup["metadata"]["name"]))
            phase = (backup.get("status") or {}).get("phase", "")
            if isinstance(plan, BackupPlan) and phase == "InProgress":
                times.append(plan.done_at)
            elif isinstance(plan, BackupPlan) and phase == "Finalizing":
                times.append(plan.done_at + FINALIZING)
        return min(times, default=None)


def expiration(backup: dict) -> datetime | None:
    value = (backup.get("status") or {}).get("expiration")
    return parse_time(value) if value else None
