"""Expiry and deletion: the GC controller asks for expired backups to be deleted with a DeleteBackupRequest,
and the deletion controller removes the backup's data from the bucket, its restores, the Backup, and
finally the requests (pkg/controller/gc_controller.go, backup_deletion_controller.go)."""
from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta

from .backups import expiration
from .context import Context
from .kube import BACKUP, BACKUP_NAME_LABEL, BACKUP_UID_LABEL, DBR, RESTORE
from .objectstore import StorageError
from .times import parse_time

GC_FREQUENCY = timedelta(hours=1)  # a backup whose deletion failed is retried this much later
GC_FAILURE_LABEL = "velero.io/gc-failure"
REQUEST_MAX_AGE = timedelta(hours=24)
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what generateName suffixes are made of


def request_name(backup: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{backup}-" + "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])


def delete_backup_request(backup: dict, name: str) -> dict:
    meta = backup["metadata"]
    return {
        "apiVersion": "velero.io/v1", "kind": "DeleteBackupRequest",
        "metadata": {"name": name, "labels": {BACKUP_NAME_LABEL: meta["name"][:63],
                                              BACKUP_UID_LABEL: meta.get("uid", "")}},
        "spec": {"backupName": meta["name"]},
    }


class GarbageCollector:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._last_attempt: dict[str, datetime] = {}

    def reconcile(self) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        for backup in kube.list(BACKUP):
            expires = expiration(backup)
            uid = backup["metadata"].get("uid", backup["metadata"]["name"])
            if expires is None or expires > now:
                continue
            if uid in self._last_attempt and now < self._last_attempt[uid] + GC_FREQUENCY:
                continue
            self._last_attempt[uid] = now
            location = self.ctx.location((backup.get("spec") or {}).get("storageLocation", ""))
            failure = ""
            if location is None:
                failure = "BSLNotFound"
            elif (location.get("spec") or {}).get("accessMode") == "ReadOnly":
                failure = "BSLReadOnly"
            labels = (backup["metadata"].get("labels") or {})
            if labels.get(GC_FAILURE_LABEL, "") != failure:
                updated = copy.deepcopy(backup)
                new_labels = updated["metadata"].setdefault("labels", {})
                if failure:
                    new_labels[GC_FAILURE_LABEL] = failure
                else:
                    new_labels.pop(GC_FAILURE_LABEL, None)
                kube.replace(BACKUP, updated)
            if failure:
                continue
            selector = f"{BACKUP_NAME_LABEL}={backup['metadata']['name'][:63]},{BACKUP_UID_LABEL}={uid}"
            if any((r.get("status") or {}).get("phase", "New") in ("New", "InProgress")
                   for r in kube.list(DBR, selector)):
                continue
            kube.create(DBR, delete_backup_request(backup, request_name(backup["metadata"]["name"], f"{uid}/{now}")))

    def next_wakeup(self) -> datetime | None:
        """The next expiration, or the retry of a deletion that did not go through."""
        times = []
        for backup in self.ctx.kube.list(BACKUP):
            expires = expiration(backup)
            if expires is None:
                continue
            last = self._last_attempt.get(backup["metadata"].get("uid", backup["metadata"]["name"]))
            times.append(last + GC_FREQUENCY if last is not None and expires <= self.ctx.now else expires)
        return min((t for t in times if t > self.ctx.now), default=None)


class DeletionController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(self) -> None:
        for request in self.ctx.kube.list(DBR):
            self._reconcile_one(request)

    def _processed(self, request: dict, error: str) -> None:
        self.ctx.kube.write_status(DBR, request, {"phase": "Processed", "errors": [error]})

    def _reconcile_one(self, request: dict) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        phase = (request.get("status") or {}).get("phase", "")
        if phase in ("Processed", "InProgress"):
            created = request["metadata"].get("creationTimestamp")
            if created and now - parse_time(created) >= REQUEST_MAX_AGE:
                kube.delete(DBR, request["metadata"]["name"])
            return
        name = (request.get("spec") or {}).get("backupName", "")
        if not name:
            return self._processed(request, "spec.backupName is required")
        for other in kube.list(DBR, f"{BACKUP_NAME_LABEL}={name[:63]}"):
            if other["metadata"]["name"] != request["metadata"]["name"]:
                kube.delete(DBR, other["metadata"]["name"])
        backup = kube.get(BACKUP, name)
        if backup is not None and backup["metadata"].get("uid", name) in self.ctx.in_progress:
            return self._processed(request, "backup is still in progress")
        if backup is None:
            return self._processed(request, "backup not found")
        location_name = (backup.get("spec") or {}).get("storageLocation", "")
        location = self.ctx.location(location_name)
        if location is None:
            return self._processed(request, f"backup storage location {location_name} not found")
        if (location.get("spec") or {}).get("accessMode") == "ReadOnly":
            return self._processed(request, "cannot delete backup because backup storage location "
                                            f"{location_name} is currently in read-only mode")
        uid = backup["metadata"].get("uid", "")
        started = copy.deepcopy(request)
        labels = started["metadata"].setdefault("labels", {})
        labels.setdefault(BACKUP_NAME_LABEL, name[:63])
        labels.setdefault(BACKUP_UID_LABEL, uid)
        started["status"] = {"phase": "InProgress"}
        request = kube.replace(DBR, started)
        if request is None:
            return
        deleting = kube.write_status(BACKUP, backup, {**(backup.get("status") or {}), "phase": "Deleting"})
        if deleting is None:
            return self._processed(request, "error setting backup phase to deleting")
        errors: list[str] = []
        try:
            self.ctx.backup_store(location).delete_backup(name)
        except StorageError as err:
            errors.append(str(err))
        for restore in kube.list(RESTORE):
            if (restore.get("spec") or {}).get("backupName") == name:
                kube.delete(RESTORE, restore["metadata"]["name"])
        if not errors and not kube.delete(BACKUP, name):
            errors.append(f"error deleting backup {kube.namespace}/{name}")
        kube.write_status(DBR, request, {"phase": "Processed", **({"errors": errors} if errors else {})})
        if not errors:
            for done in kube.list(DBR, f"{BACKUP_NAME_LABEL}={name[:63]},{BACKUP_UID_LABEL}={uid}"):
                kube.delete(DBR, done["metadata"]["name"])
