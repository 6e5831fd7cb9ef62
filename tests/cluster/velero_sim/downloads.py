"""DownloadRequest controller: `velero backup logs` and `velero restore logs` ask the server for a signed URL
to a file in the bucket (pkg/controller/download_request_controller.go, downloadRequestReconciler.Reconcile,
and pkg/persistence/object_store.go GetDownloadURL, v1.17.1).

Like Velero: a new request gets status.expiration = now + DownloadURLTTL (10 minutes) first; a Restore* target
is resolved to the restore's backup; the backup's location gives the bucket; the URL is the aws plugin's
presigned GET for the file's key (object_store_layout.go); then phase Processed and the expiration pushed to
now + 10 minutes again. A request whose restore, backup or location is missing keeps phase New with its
expiration (the deferred patch runs on every return) and is not tried again. Any request past its
expiration is deleted, whatever its phase (the periodic source enqueues only expired requests)."""
from __future__ import annotations

from datetime import timedelta

from .context import Context
from .kube import BACKUP, GVR, RESTORE
from .objectstore import StorageError
from .times import parse_time, rfc3339

DOWNLOAD_REQUEST: GVR = ("velero.io", "v1", "downloadrequests")
DOWNLOAD_URL_TTL = timedelta(minutes=10)  # persistence.DownloadURLTTL

# object_store_layout.go: the key of each target kind, under the location's prefix
LAYOUT = {
    "BackupLog": lambda n: ("backups", n, f"{n}-logs.gz"),
    "BackupContents": lambda n: ("backups", n, f"{n}.tar.gz"),
    "BackupResults": lambda n: ("backups", n, f"{n}-results.gz"),
    "BackupResourceList": lambda n: ("backups", n, f"{n}-resource-list.json.gz"),
    "BackupVolumeSnapshots": lambda n: ("backups", n, f"{n}-volumesnapshots.json.gz"),
    "BackupItemOperations": lambda n: ("backups", n, f"{n}-itemoperations.json.gz"),
    "BackupVolumeInfos": lambda n: ("backups", n, f"{n}-volumeinfo.json.gz"),
    "CSIBackupVolumeSnapshots": lambda n: ("backups", n, f"{n}-csi-volumesnapshots.json.gz"),
    "CSIBackupVolumeSnapshotContents": lambda n: ("backups", n, f"{n}-csi-volumesnapshotcontents.json.gz"),
    "RestoreLog": lambda n: ("restores", n, f"restore-{n}-logs.gz"),
    "RestoreResults": lambda n: ("restores", n, f"restore-{n}-results.gz"),
    "RestoreResourceList": lambda n: ("restores", n, f"restore-{n}-resource-list.json.gz"),
    "RestoreItemOperations": lambda n: ("restores", n, f"restore-{n}-itemoperations.json.gz"),
    "RestoreVolumeInfo": lambda n: ("restores", n, f"{n}-volumeinfo.json.gz"),
}


class DownloadRequestController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(self) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        for request in kube.list(DOWNLOAD_REQUEST):
            status = request.get("status") or {}
            expiration = parse_time(status["expiration"]) if status.get("expiration") else None
            if expiration is not None:
                if expiration < now:
                    kube.delete(DOWNLOAD_REQUEST, request["metadata"]["name"])
                    continue
                # Processed: done. New with an expiration: Velero tried once and gave up without a requeue
                # (NotFound returns nil); nothing enqueues it again until its periodic source sees it
                # expired (SetupWithManager's predicate), so it is not retried here either.
                continue
            if status.get("phase", "New") in ("", "New"):
                self._process(request)

    def _process(self, request: dict) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        status = dict(request.get("status") or {})
        status["expiration"] = rfc3339(now + DOWNLOAD_URL_TTL)
        target = (request.get("spec") or {}).get("target") or {}
        kind, name = target.get("kind", ""), target.get("name", "")
        try:
            url = self._url(kind, name)
        except LookupError:
            url = None  # logged by Velero; the request stays New until it expires
        if url is not None:
            status.update(downloadURL=url, phase="Processed", expiration=rfc3339(now + DOWNLOAD_URL_TTL))
        kube.write_status(DOWNLOAD_REQUEST, request, status)

    def _url(self, kind: str, name: str) -> str:
        backup_name = name
        if kind.startswith("Restore"):
            restore = self.ctx.kube.get(RESTORE, name)
            if restore is None:
                raise LookupError(f"restore {name} not found")
            backup_name = (restore.get("spec") or {}).get("backupName", "")
        backup = self.ctx.kube.get(BACKUP, backup_name)
        if backup is None:
            raise LookupError(f"backup {backup_name} not found")
        location = self.ctx.location((backup.get("spec") or {}).get("storageLocation", ""))
        if location is None:
            raise LookupError("location not found")
        if kind not in LAYOUT:
            raise LookupError(f'unsupported download target kind "{kind}"')
        try:
            return self.ctx.backup_store(location).signed_url(LAYOUT[kind](name), DOWNLOAD_URL_TTL)
        except StorageError as err:
            raise LookupError(str(err)) from None
