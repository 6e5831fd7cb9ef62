"""Velero's files in the bucket (logs, results), fetched the way the velero CLI does
(pkg/cmd/util/downloadrequest/downloadrequest.go): create a DownloadRequest `<name>-<uuid>` for the target,
poll it until Velero fills in status.downloadURL (a signed URL), GET that URL, gunzip it. The request is left
for Velero to delete when it expires, as the CLI leaves it."""
from __future__ import annotations

import base64
import gzip
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

from engine.errors import SnapplanError
from engine.snapshots import cluster

POLL = 0.25  # seconds between reads of the request (the CLI polls every 25 ms)


class DownloadFailed(SnapplanError):
    """Velero gave no URL in time, or the file behind it could not be read."""


class FileNotInBucket(DownloadFailed):
    """The signed URL answered 404: Velero never wrote that file."""


def request_object(ns: str, kind: str, name: str) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "DownloadRequest",
            "metadata": {"name": f"{name[:253 - 37]}-{uuid.uuid4()}", "namespace": ns},
            "spec": {"target": {"kind": kind, "name": name}}}


def download_url(api, ns: str, kind: str, name: str, *, timeout: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> str:
    created = cluster.create(api, ns, "downloadrequests", request_object(ns, kind, name))
    req_name = created["metadata"]["name"]
    deadline = clock() + timeout
    while True:
        current = cluster.get(api, ns, "downloadrequests", req_name) or {}
        url = (current.get("status") or {}).get("downloadURL")
        if url:
            return url
        if clock() >= deadline:
            raise DownloadFailed(f"Velero did not answer download request {req_name} within {timeout:.0f}s: "
                                 "check the velero server's logs; the backup storage location may not be available")
        sleep(POLL)


def fetch(url: str, *, gunzip: bool, ca_bundle: bytes | None = None, timeout: float = 60) -> bytes:
    """GET the signed URL (trusting the location's caCert too, as the CLI does) and gunzip logs."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cadata=ca_bundle.decode("utf-8", "replace"))
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # noqa: S310 (Velero's URL)
            body = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise FileNotInBucket("file not found in the bucket") from None
        raise DownloadFailed(f"the bucket refused the download: HTTP {exc.code}: "
                             f"{exc.read()[:300].decode('utf-8', 'replace')}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadFailed(f"cannot download from the bucket: {getattr(exc, 'reason', exc)}") from None
    if not gunzip:
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError) as exc:
        raise DownloadFailed(f"the file Velero pointed to is not gzip data: {exc}") from None


def location_ca(api, ns: str, backup: dict) -> bytes | None:
    """The backup's location's objectStorage.caCert (base64 PEM), when it has one."""
    name = (backup.get("spec") or {}).get("storageLocation")
    bsl = cluster.get(api, ns, "backupstoragelocations", name) if name else None
    ca = (((bsl or {}).get("spec") or {}).get("objectStorage") or {}).get("caCert")
    try:
        return base64.b64decode(ca) if ca else None
    except ValueError:
        return None


def read_file(api, ns: str, kind: str, name: str, backup: dict, *, timeout: float) -> bytes:
    url = download_url(api, ns, kind, name, timeout=timeout)
    return fetch(url, gunzip=kind != "BackupContents", ca_bundle=location_ca(api, ns, backup))
