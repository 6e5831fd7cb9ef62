"""The two writes snapshots make: start an on-demand Backup (after checking its storage location), and
ask Velero to delete a backup with a DeleteBackupRequest. snapplan never deletes a Backup object itself:
Velero would bring it back from the bucket at its next sync, and the data would stay."""
from __future__ import annotations

from engine.errors import SnapplanError
from engine.snapshots import cluster
from engine.snapshots.build import SnapshotRequestError, delete_request
from engine.snapshots.details import FINAL


class DeletionRefused(SnapplanError):
    """Velero would not delete this backup now (still running, already deleting, read-only location)."""


def start_backup(api, backup: dict) -> dict:
    """Create the Backup once its location is writable and Available; returns the created object."""
    ns, name = backup["metadata"]["namespace"], backup["metadata"]["name"]
    cluster.check_location(api, ns, backup["spec"]["storageLocation"])
    try:
        return cluster.create(api, ns, "backups", backup)
    except cluster.AlreadyExists:
        raise SnapshotRequestError(f"a backup named {name} already exists in namespace {ns}; "
                                   "pick another --name") from None


def deletion_target(api, ns: str, name: str) -> dict:
    """The backup to delete, if Velero can delete it now; DeletionRefused says why not."""
    backup = cluster.get_backup(api, ns, name)
    phase = (backup.get("status") or {}).get("phase") or "New"
    if phase == "Deleting":
        raise DeletionRefused(f"backup {name} is already being deleted")
    if phase not in FINAL:
        raise DeletionRefused(f"backup {name} is still {phase}; Velero does not delete a backup in progress — "
                              f"wait until it ends (snapplan snapshots show {name})")
    location = (backup.get("spec") or {}).get("storageLocation")
    bsl = cluster.get(api, ns, "backupstoragelocations", location) if location else None
    if bsl is not None and (bsl.get("spec") or {}).get("accessMode") == "ReadOnly":
        raise DeletionRefused(f"backup {name} is in storage location {location}, which is ReadOnly: Velero "
                              "would not delete its data; set the location's accessMode to ReadWrite first")
    return backup


def request_deletion(api, backup: dict) -> dict:
    """Create the DeleteBackupRequest; returns it (with the name the server generated)."""
    return cluster.create(api, backup["metadata"]["namespace"], "deletebackuprequests", delete_request(backup))
