"""Backup sync controller: backups found in a location's bucket but not in the cluster become Backup objects;
Completed backups whose data left the bucket are removed (pkg/controller/backup_sync_controller.go).
This is what makes restoring onto a new, empty cluster possible."""
from __future__ import annotations

import copy
from datetime import timedelta

from .context import DEFAULT_SYNC_PERIOD, Context
from .kube import BACKUP, BSL, SCHEDULE, STORAGE_LOCATION_LABEL
from .objectstore import StorageError
from .times import parse_duration, parse_time, rfc3339

_UNFINISHED = ("WaitingForPluginOperations", "WaitingForPluginOperationsPartiallyFailed",
               "Finalizing", "FinalizingPartiallyFailed")
_SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp")


def _sync_period(bsl: dict) -> timedelta | None:
    text = (bsl.get("spec") or {}).get("backupSyncPeriod")
    if text is None:
        return DEFAULT_SYNC_PERIOD
    try:
        period = parse_duration(text)
    except ValueError:
        return DEFAULT_SYNC_PERIOD
    if period == timedelta(0):
        return None  # sync disabled for this location
    return DEFAULT_SYNC_PERIOD if period < timedelta(0) else period


class SyncController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(self) -> None:
        for bsl in self.ctx.kube.list(BSL):
            period = _sync_period(bsl)
            last = (bsl.get("status") or {}).get("lastSyncedTime")
            if period is None or (last and self.ctx.now < parse_time(last) + period):
                continue
            self.sync(bsl)

    def sync(self, bsl: dict) -> None:
        kube = self.ctx.kube
        location = bsl["metadata"]["name"]
        if (bsl.get("status") or {}).get("phase") != "Available":
            return  # backupSyncReconciler.Reconcile: "BackupStorageLocation is in unavailable state, skip syncing"
        try:
            store = self.ctx.backup_store(bsl)
            in_bucket = store.list_backups()
        except StorageError:
            return  # Velero logs "Error listing backups in backup store" and tries again next period
        in_cluster = {b["metadata"]["name"] for b in kube.list(BACKUP)}
        for name in sorted(set(in_bucket) - in_cluster):
            try:
                backup = store.get_backup_metadata(name)
            except (StorageError, ValueError):
                continue
            if not (isinstance(backup, dict) and backup.get("kind") == "Backup"
                    and (backup.get("metadata") or {}).get("name")):
                continue  # Velero's decoder rejects it: "Error getting backup metadata from backup store"
            status = backup.setdefault("status", {})
            if status.get("phase") in _UNFINISHED:
                expires = status.get("expiration")
                if not expires or parse_time(expires) > self.ctx.now:
                    continue
                status["phase"] = "PartiallyFailed"
            kube.create(BACKUP, self._as_new_object(backup, location), foreign=True)
        self._delete_orphans(location, set(in_bucket))
        fresh = kube.get(BSL, location)
        if fresh is not None:
            kube.write_status(BSL, fresh, {**(fresh.get("status") or {}), "lastSyncedTime": rfc3339(self.ctx.now)})

    def _as_new_object(self, backup: dict, location: str) -> dict:
        obj = copy.deepcopy(backup)
        meta = obj.setdefault("metadata", {})
        for key in _SERVER_SET:
            meta.pop(key, None)
        meta["namespace"] = self.ctx.kube.namespace
        # The location may have another name in this cluster than in the one that made the backup.
        obj.setdefault("spec", {})["storageLocation"] = location
        meta.setdefault("labels", {})[STORAGE_LOCATION_LABEL] = location[:63]
        owners = []
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "Schedule":
                schedule = self.ctx.kube.get(SCHEDULE, ref.get("name", ""))
                if schedule is None or schedule["metadata"].get("uid") != ref.get("uid"):
                    continue
            owners.append(ref)
        if owners:
            meta["ownerReferences"] = owners
        else:
            meta.pop("ownerReferences", None)
        return obj

    def _delete_orphans(self, location: str, in_bucket: set[str]) -> None:
        """backup_sync_controller.go deleteOrphanedBackups: the Backups labelled with this location
        (velero.io/storage-location; names past 63 characters are cut here, Velero hashes them), Completed or
        PartiallyFailed, that the location's bucket/prefix does not hold are deleted from the cluster; their
        data is not touched. After a bucket or prefix change that is every such Backup the new place lacks."""
        for backup in self.ctx.kube.list(BACKUP, f"{STORAGE_LOCATION_LABEL}={location[:63]}"):
            phase = (backup.get("status") or {}).get("phase")
            if phase in ("Completed", "PartiallyFailed") and backup["metadata"]["name"] not in in_bucket:
                self.ctx.kube.delete(BACKUP, backup["metadata"]["name"])
