"""Reads and writes of Backups and what surrounds them, as raw JSON through engine.state.kube.

Every failure is a named error: ClusterUnreachable, VeleroMissing, BackupNotFound, LocationRefused,
or the API server's own message."""
from __future__ import annotations

from urllib.parse import quote

from engine.errors import SnapplanError
from engine.snapshots.build import BACKUP_NAME_LABEL, NAME, label_value
from engine.state.kube import ApiFailure, VeleroMissing, api_error, get_json, list_all, request

API = "/apis/velero.io/v1/namespaces/{ns}/{plural}"


class BackupNotFound(SnapplanError):
    """No Backup of that name in Velero's namespace."""


class LocationRefused(SnapplanError):
    """The storage location cannot take a backup now (missing, ReadOnly, Unavailable, not validated)."""


class AlreadyExists(SnapplanError):
    pass


def path(ns: str, plural: str, name: str | None = None) -> str:
    base = API.format(ns=ns, plural=plural)
    return f"{base}/{quote(name, safe='')}" if name else base


def list_kind(api, ns: str, plural: str, label_selector: str | None = None) -> list[dict]:
    """Every object of a velero.io kind; VeleroMissing when the cluster does not serve it."""
    where = path(ns, plural)
    try:
        if label_selector:
            return get_json(api, where, [("labelSelector", label_selector)]).get("items") or []
        return list_all(api, where)
    except ApiFailure as exc:
        if exc.status == 404:
            raise VeleroMissing(f"Velero is not installed in this cluster ({api.configuration.host}): "
                                f"{plural}.velero.io is not served; install Velero first (velero install)") from None
        raise


def get(api, ns: str, plural: str, name: str) -> dict | None:
    """One object, or None when it does not exist (a missing CRD is VeleroMissing)."""
    where = path(ns, plural, name)
    resp = request(api, "GET", where)
    if resp.status == 404:
        body = _body(resp)
        if (body.get("details") or {}).get("name") == name or body.get("reason") == "NotFound" and name in (
                body.get("message") or ""):
            return None
        raise VeleroMissing(f"Velero is not installed in this cluster ({api.configuration.host}): "
                            f"{plural}.velero.io is not served; install Velero first (velero install)")
    if resp.status >= 400:
        raise api_error(resp, "get", where)
    return resp.json()


def get_backup(api, ns: str, name: str) -> dict:
    # An empty name would GET the whole collection, one with '/' another path: neither is a backup.
    if len(name) > 253 or not NAME.match(name):
        raise BackupNotFound(f"no backup named {name!r} in namespace {ns}: a backup name is lowercase letters, "
                             "digits, '-' and '.' (list them with: snapplan snapshots)")
    backup = get(api, ns, "backups", name)
    if backup is None:
        raise BackupNotFound(f"no backup named {name} in namespace {ns} (list them with: snapplan snapshots)")
    return backup


def create(api, ns: str, plural: str, obj: dict) -> dict:
    where = path(ns, plural)
    resp = request(api, "POST", where, body=obj)
    if resp.status == 409:
        raise AlreadyExists(f"{obj['kind']} {obj['metadata'].get('name')} already exists in namespace {ns}")
    if resp.status >= 400:
        raise api_error(resp, "create", where)
    return resp.json()


def restores_from(api, ns: str, backup: str) -> list[dict]:
    """The Restores whose spec.backupName is this backup, oldest first."""
    found = [r for r in list_kind(api, ns, "restores") if (r.get("spec") or {}).get("backupName") == backup]
    return sorted(found, key=lambda r: (r["metadata"].get("creationTimestamp") or "", r["metadata"]["name"]))


def pod_volume_backups(api, ns: str, backup: str) -> list[dict]:
    """The file-system volume backups Velero made for a backup (label velero.io/backup-name)."""
    try:
        return list_kind(api, ns, "podvolumebackups", f"{BACKUP_NAME_LABEL}={label_value(backup)}")
    except (VeleroMissing, ApiFailure):  # an older Velero, or no right to list them: nothing to show
        return []


def check_location(api, ns: str, name: str) -> dict:
    """The storage location, if Velero can write a backup to it now; LocationRefused says why not.
    Velero itself would fail such a backup as FailedValidation (backup_controller.go)."""
    bsl = get(api, ns, "backupstoragelocations", name)
    if bsl is None:
        raise LocationRefused(f"storage location {name} does not exist in namespace {ns}; "
                              "apply the policy first (snapplan apply -f POLICY)")
    spec, status = bsl.get("spec") or {}, bsl.get("status") or {}
    if spec.get("accessMode") == "ReadOnly":
        raise LocationRefused(f"storage location {name} is ReadOnly (spec.accessMode): Velero does not write "
                              "backups to it; set accessMode: ReadWrite in the policy and apply, or pick "
                              "another --storage")
    phase = status.get("phase")
    if phase == "Unavailable":
        why = status.get("message") or "Velero gave no message"
        raise LocationRefused(f"storage location {name} is Unavailable: {why}\nFix the location (credentials, "
                              f"bucket, endpoint) and wait until Velero validates it again "
                              f"(kubectl -n {ns} get bsl {name})")
    if phase != "Available":
        raise LocationRefused(f"storage location {name} has not been validated by Velero yet (no status.phase); "
                              f"Velero checks locations every minute — is it running? (kubectl -n {ns} get deploy)")
    return bsl


def _body(resp) -> dict:
    try:
        return resp.json()
    except (ValueError, TypeError):
        return {}
