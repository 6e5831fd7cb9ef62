"""Follow one Backup until Velero is done with it: a GET, then a watch from its resourceVersion, so every
status write Velero makes reaches the observer in order. Timeouts are wall time; the backup goes on in
Velero whatever happens here."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from engine.errors import ClusterUnreachable, SnapplanError
from engine.snapshots.cluster import get_backup, path
from engine.snapshots.details import FINAL
from engine.state.kube import Response, api_error

WATCH_SECONDS = 60  # one watch request at most this long, then a new one from the last resourceVersion


class StoppedWaiting(SnapplanError):
    """The backup did not finish in time, or was deleted while we watched; Velero carries on with it."""

    def __init__(self, message: str, last: dict | None):
        super().__init__(message)
        self.last = last


def follow_backup(api, ns: str, name: str, on_update: Callable[[dict], None], *, timeout: float,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Call on_update(backup) for the current object and every change until a final phase; returns the
    final object. StoppedWaiting on timeout or deletion."""
    deadline = clock() + timeout
    backup = get_backup(api, ns, name)
    on_update(backup)
    while _phase(backup) not in FINAL:
        remaining = deadline - clock()
        if remaining <= 0:
            raise StoppedWaiting(f"timed out after {_span(timeout)} waiting for backup {name} (last seen: "
                                 f"{_phase(backup)}); Velero carries on with it — follow it with: "
                                 f"snapplan snapshots show {name}", backup)
        rv = backup["metadata"].get("resourceVersion", "")
        opened, events = clock(), 0
        for kind, obj in _watch(api, ns, name, rv, min(remaining, WATCH_SECONDS)):
            events += 1
            if kind == "DELETED":
                raise StoppedWaiting(f"backup {name} was deleted while it ran (phase {_phase(obj)})", obj)
            if kind == "EXPIRED":  # our resourceVersion is too old: read the object again
                backup = get_backup(api, ns, name)
                on_update(backup)
                break
            if kind == "BOOKMARK":
                backup["metadata"]["resourceVersion"] = obj["metadata"].get("resourceVersion", rv)
                continue
            if obj["metadata"].get("resourceVersion") == backup["metadata"].get("resourceVersion"):
                continue
            backup = obj
            on_update(backup)
            if _phase(backup) in FINAL:
                break
        if not events and clock() - opened < 1:
            sleep(1)  # the stream closed at once (a dropped connection): do not hammer the server
    return backup


def _watch(api, ns: str, name: str, rv: str, seconds: float) -> Iterator[tuple[str, dict]]:
    """(event type, object) from one watch request; ends when the server closes it. A dropped stream
    just ends: the caller watches again from the last resourceVersion it saw."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    query = [("watch", "true"), ("fieldSelector", f"metadata.name={name}"), ("resourceVersion", rv),
             ("allowWatchBookmarks", "true"), ("timeoutSeconds", str(max(1, int(seconds))))]
    where = path(ns, "backups")
    try:
        method, url, headers, body, post = api.param_serialize(
            method="GET", resource_path=where, query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"])
        resp = api.call_api(method, url, header_params=headers, _request_timeout=(10, seconds + 30)).response
    except ApiException as exc:
        raise api_error(Response(exc.status or 0, {}, (exc.body or "").encode() if isinstance(exc.body, str)
                                 else (exc.body or b"")), "watch", where) from None
    except (HTTPError, OSError) as exc:
        raise ClusterUnreachable(f"cannot reach the Kubernetes API server at {api.configuration.host}: {exc}") from None
    try:
        if resp.status >= 400:
            raise api_error(Response(resp.status, dict(resp.headers), resp.read()), "watch", where)
        buffer = b""
        for chunk in resp.stream(8192):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield _event(json.loads(line))
    except (HTTPError, OSError):
        return
    finally:
        resp.release_conn()


def _event(event: dict) -> tuple[str, dict]:
    kind, obj = event.get("type", ""), event.get("object") or {}
    if kind == "ERROR":
        if obj.get("code") == 410:
            return "EXPIRED", obj
        raise SnapplanError(f"watching the backup failed: {obj.get('message') or obj}")
    return kind, obj


def _phase(backup: dict | None) -> str:
    return ((backup or {}).get("status") or {}).get("phase") or "New"


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
