"""Fill the test cluster through its HTTPS API, as any client would: one POST per object, a few connections.

(About 0.7 ms per object here, so even 50,000 objects go over HTTP: no in-process bulk path is needed.)
"""
from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

PLURALS = {"Secret": ("", "v1", "secrets"), "Namespace": ("", "v1", "namespaces"),
           "BackupStorageLocation": ("velero.io", "v1", "backupstoragelocations"),
           "VolumeSnapshotLocation": ("velero.io", "v1", "volumesnapshotlocations"),
           "Schedule": ("velero.io", "v1", "schedules"), "Restore": ("velero.io", "v1", "restores"),
           "Backup": ("velero.io", "v1", "backups")}


class PopulateError(Exception):
    pass


def collection_path(kind: str, namespace: str | None) -> str:
    group, version, plural = PLURALS[kind]
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


class HttpClient:
    """Raw HTTPS to the API server with a bearer token; one keep-alive connection per thread."""

    def __init__(self, url: str, token: str, ca_pem: bytes):
        self.host, port = url.removeprefix("https://").rsplit(":", 1)
        self.port = int(port)
        self.token = token
        self.context = ssl.create_default_context(cadata=ca_pem.decode())
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPSConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                                                 timeout=60)
        return conn

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def create(self, obj: dict) -> None:
        meta = obj["metadata"]
        status, body = self.request("POST", collection_path(obj["kind"], meta.get("namespace")), obj)
        if status == 409:
            return  # already there: populating is idempotent, so a grown cluster keeps what it had
        if status >= 300:
            raise PopulateError(f"create {obj['kind']} {meta['name']}: {status} {body[:300]!r}")


def create_all(client: HttpClient, objects: Iterable[dict], workers: int = 4) -> int:
    """POST every object; returns how many were sent."""
    objects = list(objects)
    if not objects:
        return 0
    with ThreadPoolExecutor(workers, thread_name_prefix="populate") as pool:
        chunks = [objects[i::workers] for i in range(workers)]
        for done in pool.map(lambda chunk: [client.create(o) for o in chunk], chunks):
            pass
    return len(objects)
