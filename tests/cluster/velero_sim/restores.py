"""Restore controller: resolve the backup (scheduleName -> its newest Completed backup), read its contents
from the bucket, recreate its namespaces under namespaceMapping, and keep a record tests can read
(pkg/controller/restore_controller.go, restore_finalizer_controller.go of v1.16)."""
from __future__ import annotations

import copy
import gzip
import json
from dataclasses import dataclass
from datetime import datetime

from .backups import FINALIZING, items_in_namespace, read_tarball, run_time, select_namespaces
from .context import Context
from .kube import BACKUP, NAMESPACE, RESTORE, SCHEDULE_NAME_LABEL
from .objectstore import StorageError
from .times import rfc3339

NON_RESTORABLE = ("nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io",
                  "resticrepositories.velero.io", "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io",
                  "backuprepositories.velero.io")


@dataclass(frozen=True)
class RestoreRecord:
    """What a completed restore put back: source namespace -> namespace it was restored into."""

    name: str
    backup: str
    namespaces: dict[str, str]
    created: tuple[str, ...]  # the namespaces that did not exist and were made
    completed: datetime


@dataclass(frozen=True)
class RestorePlan:
    backup: str
    namespaces: dict[str, str]
    start: datetime

    @property
    def total(self) -> int:
        return sum(items_in_namespace(n) for n in self.namespaces)

    @property
    def done_at(self) -> datetime:
        return self.start + run_time(self.total)


def newest_completed(backups: list[dict]) -> dict | None:
    """Velero's mostRecentCompletedBackup: by startTimestamp, newest first, the first Completed one."""
    def start(b: dict) -> str:
        return (b.get("status") or {}).get("startTimestamp") or ""

    for backup in sorted(backups, key=start, reverse=True):
        if (backup.get("status") or {}).get("phase") == "Completed":
            return backup
    return None


class RestoreController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.records: list[RestoreRecord] = []
        self._plans: dict[str, RestorePlan] = {}
        self._created: dict[str, tuple[str, ...]] = {}  # uid -> namespaces this restore had to make

    def restart(self) -> None:
        for restore in self.ctx.kube.list(RESTORE):
            phase = (restore.get("status") or {}).get("phase", "")
            if phase == "InProgress":
                status = dict(restore["status"])
                status.update(phase="Failed", completionTimestamp=rfc3339(self.ctx.now), failureReason=(
                    f'found a restore with status "{phase}" during the server starting, mark it as "Failed"'))
                self.ctx.kube.write_status(RESTORE, restore, status)

    def reconcile(self) -> None:
        for restore in self.ctx.kube.list(RESTORE):
            phase = (restore.get("status") or {}).get("phase", "")
            if phase in ("", "New"):
                restore = self._start(restore)
                phase = ((restore or {}).get("status") or {}).get("phase", "")
            if restore is not None and phase in ("InProgress", "Finalizing"):
                self._advance(restore)

    def _validate(self, restore: dict) -> tuple[list[str], dict | None]:
        spec = restore["spec"]
        errors = [f"{r} are non-restorable resources" for r in NON_RESTORABLE
                  if r in (spec.get("includedResources") or [])]
        if spec.get("orLabelSelectors") is not None and spec.get("labelSelector") is not None:
            errors.append("encountered labelSelector as well as orLabelSelectors in restore spec, only one can be specified")
        if bool(spec.get("backupName")) == bool(spec.get("scheduleName")):
            errors.append("Either a backup or schedule must be specified as a source for the restore, but not both")
            return errors, None
        if spec.get("scheduleName"):
            backups = self.ctx.kube.list(BACKUP, f"{SCHEDULE_NAME_LABEL}={spec['scheduleName']}")
            if not backups:
                errors.append("No backups found for schedule")
            newest = newest_completed(backups)
            if newest is None:
                errors.append("No completed backups found for schedule")
                return errors, None
            spec["backupName"] = newest["metadata"]["name"]
        ns = self.ctx.kube.namespace
        backup = self.ctx.kube.get(BACKUP, spec["backupName"])
        if backup is None:
            errors.append(f"Error retrieving backup: can't find backup {ns}/{spec['backupName']}: "
                          f"backups.velero.io \"{spec['backupName']}\" not found")
            return errors, None
        location = (backup.get("spec") or {}).get("storageLocation", "")
        if self.ctx.location(location) is None:
            errors.append(f'Error retrieving backup: backupstoragelocations.velero.io "{location}" not found')
            return errors, None
        if not spec.get("scheduleName") and (backup["metadata"].get("labels") or {}).get(SCHEDULE_NAME_LABEL):
            spec["scheduleName"] = backup["metadata"]["labels"][SCHEDULE_NAME_LABEL]
        return errors, backup

    def _start(self, restore: dict) -> dict | None:
        now = self.ctx.now
        updated = copy.deepcopy(restore)
        updated.setdefault("spec", {})
        status = updated.setdefault("status", {})
        errors, backup = self._validate(updated)
        if not updated["spec"].get("itemOperationTimeout"):
            updated["spec"]["itemOperationTimeout"] = "4h0m0s"
        plan = None
        if errors:
            status.update(phase="FailedValidation", validationErrors=errors)
        else:
            status.update(phase="InProgress", startTimestamp=rfc3339(now))
            try:
                plan = self._plan(updated, backup, now)
                status["progress"] = {"totalItems": plan.total, "itemsRestored": 0}
            except StorageError as err:
                status.update(phase="Failed", failureReason=f"error downloading backup: {err}",
                              completionTimestamp=rfc3339(now))
        written = self.ctx.kube.replace(RESTORE, updated)
        if written is not None and plan is not None:
            self._plans[written["metadata"].get("uid", written["metadata"]["name"])] = plan
        return written

    def _plan(self, restore: dict, backup: dict, now: datetime) -> RestorePlan:
        location = self.ctx.location(backup["spec"]["storageLocation"]) or {}
        contents = read_tarball(self.ctx.backup_store(location).get_backup_contents(backup["metadata"]["name"]))
        spec = restore["spec"]
        chosen = select_namespaces(sorted(contents), spec.get("includedNamespaces"), spec.get("excludedNamespaces"))
        chosen = [n for n in chosen if n in contents]
        mapping = spec.get("namespaceMapping") or {}
        return RestorePlan(backup["metadata"]["name"], {n: mapping.get(n, n) for n in chosen}, now)

    def _advance(self, restore: dict) -> None:
        now = self.ctx.now
        name = restore["metadata"]["name"]
        uid = restore["metadata"].get("uid", name)
        plan = self._plans.get(uid)
        if plan is None:
            return
        status = copy.deepcopy(restore["status"])
        if status["phase"] == "InProgress":
            if now < plan.done_at:
                return
            self._created[uid] = self._restore_namespaces(plan)
            self._upload_results(restore, plan)
            status.update(phase="Finalizing", progress={"totalItems": plan.total, "itemsRestored": plan.total})
            written = self.ctx.kube.write_status(RESTORE, restore, status)
            if written is None:
                return
            restore, status = written, copy.deepcopy(written["status"])
        if now < plan.done_at + FINALIZING:
            return
        status.update(phase="Completed", completionTimestamp=rfc3339(plan.done_at + FINALIZING))
        if self.ctx.kube.write_status(RESTORE, restore, status) is not None:
            self._plans.pop(uid, None)
            self.records.append(RestoreRecord(name, plan.backup, dict(plan.namespaces),
                                              self._created.pop(uid, ()), plan.done_at + FINALIZING))

    def _restore_namespaces(self, plan: RestorePlan) -> tuple[str, ...]:
        created = []
        for target in plan.namespaces.values():
            if self.ctx.kube.get(NAMESPACE, target, namespace=None) is None:
                obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                    "name": target, "labels": {"velero.io/backup-name": plan.backup[:63]}}}
                if self.ctx.kube.create(NAMESPACE, obj, namespace=None) is not None:
                    created.append(target)
        return tuple(created)

    def _upload_results(self, restore: dict, plan: RestorePlan) -> None:
        name = restore["metadata"]["name"]
        backup = self.ctx.kube.get(BACKUP, plan.backup)
        location = self.ctx.location(((backup or {}).get("spec") or {}).get("storageLocation", ""))
        if location is None:
            return
        results = gzip.compress(json.dumps({"warnings": {}, "errors": {}}).encode(), mtime=0)
        log = gzip.compress(f'time="{rfc3339(plan.start)}" level=info msg="restore completed" restore=velero/{name}\n'
                            .encode(), mtime=0)
        try:
            store = self.ctx.backup_store(location)
            store.put(("restores", name, f"restore-{name}-results.gz"), results)
            store.put(("restores", name, f"restore-{name}-logs.gz"), log)
        except StorageError:
            pass  # Velero logs this and carries on; the restore itself succeeded

    def next_wakeup(self) -> datetime | None:
        times = []
        for restore in self.ctx.kube.list(RESTORE):
            plan = self._plans.get(restore["metadata"].get("uid", restore["metadata"]["name"]))
            phase = (restore.get("status") or {}).get("phase", "")
            if plan is not None and phase == "InProgress":
                times.append(plan.done_at)
            elif plan is not None and phase == "Finalizing":
                times.append(plan.done_at + FINALIZING)
        return min(times, default=None)

