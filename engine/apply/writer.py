"""Writes to the Kubernetes API for the executor: raw JSON over the official client, statuses as named errors."""
from __future__ import annotations

from engine.addr import Address
from engine.apply.retry import TransientError
from engine.errors import ClusterUnreachable, SnapplanError
from engine.state.kube import Response, request

FIELD_MANAGER = "snapplan"


class Conflict(SnapplanError):
    """409: the object changed since it was read (stale resourceVersion) or already exists."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class Rejected(SnapplanError):
    """The API server refused the request for good (403, 404, 422, ...)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def object_path(addr: Address, *, collection: bool = False) -> str:
    group = "/api/v1" if addr.api_version == "v1" else f"/apis/{addr.api_version}"
    base = f"{group}/namespaces/{addr.namespace}/{addr.plural}"
    return base if collection else f"{base}/{addr.name}"


class KubeWriter:
    def __init__(self, api):
        self.api = api

    def _call(self, method: str, addr: Address, *, body=None, collection=False,
              content_type="application/json") -> dict:
        query = [("fieldManager", FIELD_MANAGER)] if method in ("POST", "PATCH", "PUT") else []
        try:
            resp = request(self.api, method, object_path(addr, collection=collection), query=query, body=body,
                           content_type=content_type)
        except ClusterUnreachable as exc:
            raise TransientError(str(exc)) from None
        return _check(resp, method, addr)

    def get(self, addr: Address) -> dict | None:
        try:
            return self._call("GET", addr)
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, addr: Address, obj: dict) -> dict:
        return self._call("POST", addr, body=obj, collection=True)

    def patch(self, addr: Address, patch: dict) -> dict:
        """JSON merge patch; a metadata.resourceVersion in it makes the server refuse a stale write (409)."""
        return self._call("PATCH", addr, body=patch, content_type="application/merge-patch+json")

    def delete(self, addr: Address, *, uid: str, resource_version: str) -> dict:
        """Deletes only that incarnation (uid) at that version: the server refuses (409) anything else.
        Called only by Executor._delete_guarded, which read both just before."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background",
                "preconditions": {"uid": uid, "resourceVersion": resource_version}}
        return self._call("DELETE", addr, body=body)


def _check(resp: Response, method: str, addr: Address) -> dict:
    if resp.status < 400:
        return resp.json()
    try:
        status = resp.json()
    except ValueError:
        status = {}
    message = status.get("message") or f"HTTP {resp.status}"
    if resp.status == 429 or resp.status >= 500:
        retry_after = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
        raise TransientError(f"{method} {addr}: {message} ({resp.status})", resp.status,
                             float(retry_after) if retry_after and retry_after.isdigit() else None)
    if resp.status == 409:
        raise Conflict(f"{addr}: {message}", status.get("reason", "Conflict"))
    raise Rejected(f"{method} {addr} refused ({resp.status} {status.get('reason', '')}): {message}", resp.status)
