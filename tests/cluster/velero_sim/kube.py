"""The simulator's view of the API server's store: Velero's namespace, its kinds, and writes that give up
quietly on a conflict (the next step retries, as a controller's requeue would)."""
from __future__ import annotations

import base64
import copy
from typing import Any

from .objectstore import StorageError

GVR = tuple[str, str, str]
BSL: GVR = ("velero.io", "v1", "backupstoragelocations")
SCHEDULE: GVR = ("velero.io", "v1", "schedules")
BACKUP: GVR = ("velero.io", "v1", "backups")
RESTORE: GVR = ("velero.io", "v1", "restores")
DBR: GVR = ("velero.io", "v1", "deletebackuprequests")
SECRET: GVR = ("", "v1", "secrets")
NAMESPACE: GVR = ("", "v1", "namespaces")
DEPLOYMENT: GVR = ("apps", "v1", "deployments")

_RETRY_LATER = {404, 409, 429, 500, 503}

SCHEDULE_NAME_LABEL = "velero.io/schedule-name"
STORAGE_LOCATION_LABEL = "velero.io/storage-location"
BACKUP_NAME_LABEL = "velero.io/backup-name"
BACKUP_UID_LABEL = "velero.io/backup-uid"


def _api_error_code(err: Exception) -> int | None:
    code = getattr(err, "code", None)
    return code if isinstance(code, int) else None


class Kube:
    """Reads and writes Velero's objects in one namespace of the store."""

    def __init__(self, store: Any, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def list(self, gvr: GVR, label_selector: str | None = None, namespace: str | None = "") -> list[dict]:
        ns = self.namespace if namespace == "" else namespace
        items, _ = self.store.list(gvr, ns, label_selector=label_selector)
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def get(self, gvr: GVR, name: str, namespace: str | None = "") -> dict | None:
        ns = self.namespace if namespace == "" else namespace
        try:
            return self.store.get(gvr, ns, name)
        except Exception as err:  # noqa: BLE001 - ApiError; the store module may load after us
            if _api_error_code(err) == 404:
                return None
            raise

    def _tolerant(self, fn: Any, *args: Any, **kwargs: Any) -> dict | None:
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001
            if _api_error_code(err) in _RETRY_LATER:
                return None
            raise

    def create(self, gvr: GVR, obj: dict, namespace: str | None = "", *, foreign: bool = False) -> dict | None:
        """The created object, or None when it exists already (or the server refused for now).
        foreign=True: the object comes from outside (a bucket), so a 400/422 refusal is skipped too,
        as Velero logs and skips it; our own objects must be valid and raise."""
        ns = self.namespace if namespace == "" else namespace
        try:
            return self._tolerant(self.store.create, gvr, ns, obj)
        except Exception as err:  # noqa: BLE001
            if foreign and _api_error_code(err) in (400, 422):
                return None
            raise

    def replace(self, gvr: GVR, obj: dict) -> dict | None:
        """Write the whole object (spec, metadata; and status for kinds without a status subresource)."""
        meta = obj["metadata"]
        return self._tolerant(self.store.replace, gvr, meta.get("namespace"), meta["name"], obj)

    def write_status(self, gvr: GVR, obj: dict, status: dict) -> dict | None:
        """Set the object's status to `status` (a full status, not a patch). Velero's CRDs declare no
        status subresource (`subresources: {}`), so Velero writes status through the object itself."""
        meta = obj["metadata"]
        updated = copy.deepcopy(obj)
        updated["status"] = status
        return self._tolerant(self.store.replace, gvr, meta.get("namespace"), meta["name"], updated)

    def delete(self, gvr: GVR, name: str, namespace: str | None = "") -> bool:
        ns = self.namespace if namespace == "" else namespace
        return self._tolerant(self.store.delete, gvr, ns, name) is not None

    def read_secret(self, name: str, key: str) -> bytes:
        """A Secret's key as Velero's credential store reads it, with Velero's errors."""
        secret = self.get(SECRET, name)
        if secret is None:
            raise StorageError(f'unable to get credentials: unable to get key for secret: secrets "{name}" not found')
        data = secret.get("data") or {}
        if key in data:
            return base64.b64decode(data[key])
        string_data = secret.get("stringData") or {}
        if key in string_data:
            return string_data[key].encode()
        raise StorageError(
            f'unable to get credentials: unable to get key for secret: "{name}" secret is missing data for key "{key}"'
        )
