"""The in-process store's read/write calls (tests/cluster/apiserver/store.py) answered by the real kube-apiserver,
so one test body can check both worlds: `cluster.store.get(GVR, ns, name)` works on either."""
from __future__ import annotations

import time

from tests.cluster.apiserver.errors import ApiError

from .kube import Kube

GVR = tuple[str, str, str]


class RealStore:
    """get/list/create/replace/delete over HTTPS; failures raise ApiError with the server's Status."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def _url(self, gvr: GVR, namespace: str | None, name: str | None = None) -> str:
        group, version, resource = gvr
        base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        ns = f"/namespaces/{namespace}" if namespace else ""
        return f"{self.kube.url}{base}{ns}/{resource}" + (f"/{name}" if name else "")

    def _call(self, method: str, url: str, body: dict | None = None, params: dict | None = None) -> dict:
        response = self.kube.session.request(method, url, json=body, params=params, timeout=30)
        doc = response.json() if response.content else {}
        if response.status_code >= 400:
            raise ApiError(response.status_code, doc.get("reason", ""), doc.get("message", response.text),
                           doc.get("details"))
        return doc

    def get(self, gvr: GVR, namespace: str | None, name: str) -> dict:
        return self._call("GET", self._url(gvr, namespace, name))

    def list(self, gvr: GVR, namespace: str | None = None, label_selector: str | None = None) -> tuple[list, str]:
        doc = self._call("GET", self._url(gvr, namespace), params={"labelSelector": label_selector} if label_selector else None)
        return doc["items"], doc["metadata"]["resourceVersion"]

    def create(self, gvr: GVR, namespace: str | None, obj: dict) -> dict:
        return self._call("POST", self._url(gvr, namespace), _typed(obj, gvr))

    def replace(self, gvr: GVR, namespace: str | None, name: str, obj: dict) -> dict:
        return self._call("PUT", self._url(gvr, namespace, name), _typed(obj, gvr))

    def patch_status(self, gvr: GVR, namespace: str | None, name: str, status_patch: dict) -> dict:
        """A merge patch of .status on the main endpoint (Velero's CRDs have no status subresource)."""
        response = self.kube.session.patch(self._url(gvr, namespace, name), json={"status": status_patch},
                                           headers={"Content-Type": "application/merge-patch+json"}, timeout=30)
        if response.status_code >= 400:
            raise ApiError(response.status_code, "", response.text)
        return response.json()

    def delete(self, gvr: GVR, namespace: str | None, name: str) -> dict:
        return self._call("DELETE", self._url(gvr, namespace, name))

    def wait(self, gvr: GVR, namespace: str | None, name: str, predicate, timeout: float = 60) -> dict:
        """Poll the object until predicate(obj) holds (real controllers take real time)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                obj = self.get(gvr, namespace, name)
                if predicate(obj):
                    return obj
            except ApiError as exc:
                if exc.code != 404:
                    raise
                obj = None
            if time.monotonic() > deadline:
                raise AssertionError(f"{gvr[2]}/{name}: condition not met after {timeout:.0f}s; last seen: {obj}")
            time.sleep(0.5)


_KINDS = {"namespaces": "Namespace", "secrets": "Secret", "configmaps": "ConfigMap", "leases": "Lease",
          "deployments": "Deployment", "backupstoragelocations": "BackupStorageLocation", "schedules": "Schedule",
          "backups": "Backup", "restores": "Restore", "volumesnapshotlocations": "VolumeSnapshotLocation",
          "deletebackuprequests": "DeleteBackupRequest", "services": "Service"}


def _typed(obj: dict, gvr: GVR) -> dict:
    """The in-process store accepts objects without apiVersion/kind; a real server needs them."""
    group, version, resource = gvr
    out = dict(obj)
    out.setdefault("apiVersion", f"{group}/{version}" if group else version)
    out.setdefault("kind", _KINDS[resource])
    return out
