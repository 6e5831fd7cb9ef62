"""Read live state from a Kubernetes API server: one LIST per kind, raw JSON, no model deserialization.

The number of requests does not grow with the number of objects: lists are not paged (see list_all).
"""
from __future__ import annotations

import gc
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass

from engine.errors import ClusterUnreachable, SnapplanError
from engine.state.live import LiveState

# (path template, kind of the items, required): velero.io kinds missing means Velero is not installed.
READS = (
    ("/api/v1/namespaces", "Namespace", False),
    ("/api/v1/namespaces/{ns}/secrets", "Secret", True),
    ("/apis/apps/v1/namespaces/{ns}/deployments", "Deployment", False),
    ("/apis/apps/v1/namespaces/{ns}/daemonsets", "DaemonSet", False),
    ("/apis/velero.io/v1/namespaces/{ns}/backupstoragelocations", "BackupStorageLocation", True),
    ("/apis/velero.io/v1/namespaces/{ns}/volumesnapshotlocations", "VolumeSnapshotLocation", True),
    ("/apis/velero.io/v1/namespaces/{ns}/schedules", "Schedule", True),
    ("/apis/velero.io/v1/namespaces/{ns}/backups", "Backup", True),
    ("/apis/velero.io/v1/namespaces/{ns}/restores", "Restore", True),
)


class VeleroMissing(SnapplanError):
    """Velero's CRDs are not served by this cluster."""


@dataclass(frozen=True)
class KubeTarget:
    kubeconfig: str | None = None
    context: str | None = None


def api_client(target: KubeTarget):
    """An ApiClient from kubeconfig (a KUBECONFIG list merged as kubectl merges it), or in-cluster config;
    ClusterUnreachable when neither works."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    from engine.state.kubeconfig import config_paths, merged_loader

    cfg = client.Configuration()
    try:
        merged_loader(target.kubeconfig, target.context).load_and_set(cfg)
    except FileNotFoundError:
        text, _ = config_paths(target.kubeconfig)
        if target.kubeconfig or target.context or os.environ.get("KUBECONFIG"):
            raise ClusterUnreachable(f"kubeconfig {text} does not exist; check --kubeconfig / KUBECONFIG") from None
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException:
            raise ClusterUnreachable(
                f"no kubeconfig ({text} does not exist) and not in a cluster; "
                "pass --kubeconfig/--context or set KUBECONFIG") from None
    except ConfigException as exc:
        raise ClusterUnreachable(f"cannot use kubeconfig: {exc}") from None
    except (OSError, ValueError) as exc:
        raise ClusterUnreachable(f"cannot read kubeconfig: {exc}") from None
    return client.ApiClient(cfg)


def context_name(target: KubeTarget) -> str | None:
    """The context a target resolves to (the merged kubeconfig's current one unless --context names one)."""
    if target.context:
        return target.context
    from engine.state.kubeconfig import merged_loader

    try:
        return merged_loader(target.kubeconfig, None).current_context["name"]
    except Exception:  # in-cluster config, or a kubeconfig without contexts
        return None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def request(api, method: str, path: str, *, query: list[tuple[str, str]] | None = None, body=None,
            content_type: str = "application/json", timeout: float = 30) -> Response:
    """One raw HTTP request through the official client's auth and TLS; the body is never deserialized
    into models. Transport failures raise ClusterUnreachable; HTTP statuses are returned, not raised."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    try:
        method_, url, headers_, body_, post = api.param_serialize(
            method=method, resource_path=path, query_params=query or [], header_params=headers, body=body,
            auth_settings=["BearerToken"])
        resp = api.call_api(method_, url, header_params=headers_, body=body_, post_params=post,
                            _request_timeout=timeout)
        return Response(resp.status, dict(resp.headers or {}), resp.read() or b"")
    except ApiException as exc:
        return Response(exc.status or 0, dict(exc.headers or {}), (exc.body or "").encode()
                        if isinstance(exc.body, str) else (exc.body or b""))
    except (HTTPError, OSError) as exc:
        raise ClusterUnreachable(f"cannot reach the Kubernetes API server at {api.configuration.host}: "
                                 f"{_reason(exc)}; check --kubeconfig/--context and that the cluster is up") from None


RETRY_STATUSES = (429, 500, 502, 503, 504)


def request_retrying(api, method: str, path: str, *, attempts: int = 5, unreachable_attempts: int = 3,
                     sleep=None, **kwargs) -> Response:
    """request(), again on 429/5xx (honouring Retry-After, at most 5 s a wait) and on a dropped or refused
    connection (fewer times: a cluster that is down should be said quickly). Only for requests that are safe
    to repeat: reads, and the lock's own writes, which carry a resourceVersion or meet 409."""
    import time

    sleep = sleep or time.sleep
    refused = 0
    for attempt in range(1, attempts + 1):
        try:
            resp = request(api, method, path, **kwargs)
        except ClusterUnreachable:
            refused += 1
            if refused >= unreachable_attempts or attempt == attempts:
                raise
            sleep(0.25 * 2 ** refused)
            continue
        if resp.status not in RETRY_STATUSES or attempt == attempts:
            return resp
        after = resp.headers.get("Retry-After") or resp.headers.get("retry-after") or ""
        sleep(min(float(after) if after.isdigit() else 0.2 * 2 ** (attempt - 1), 5.0))
    raise AssertionError("unreachable")


def get_json(api, path: str, query: list[tuple[str, str]] | None = None) -> dict:
    """GET a path as raw JSON (retried when the server is busy or the connection drops); API failures
    become named errors."""
    resp = request_retrying(api, "GET", path, query=query)
    if resp.status >= 400:
        raise api_error(resp, "list", path)
    return resp.json()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc).split(": ", 1)[-1][:200]


class ApiFailure(SnapplanError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def api_error(resp: Response, verb: str, path: str) -> SnapplanError:
    status = resp.status
    try:
        body = resp.json()
    except (ValueError, TypeError):
        body = {}
    detail = body.get("message") or ""
    if status == 401:
        return ClusterUnreachable(f"the API server rejected our credentials (401 Unauthorized): {detail}; "
                                  "refresh the kubeconfig's token or pick another --context")
    if status == 403:
        return ApiFailure(403, f"forbidden: cannot {verb} {path}: {detail}; grant this verb to your user "
                               "(RBAC) or use a context that has it")
    return ApiFailure(status, f"{verb} {path} failed ({status}): {detail}")


def read_cluster(api, namespace: str) -> LiveState:
    """Everything the plan needs, one LIST per kind."""
    with _gc_paused():
        return _read_cluster(api, namespace)


@contextmanager
def _gc_paused():
    """Parsing the lists of tens of thousands of objects makes millions of containers, none of them garbage
    yet; the cyclic GC would scan the growing heap again and again (half the parse time at 10,000 objects).
    Afterwards freeze() moves every object into the permanent generation, which the collector never scans: the
    state lives until the command ends, and with it in the oldest generation the first full collection after
    the read (soon, since the oldest generation grew from almost nothing) scanned all of it again, a second
    or more at 100,000 objects. Objects frozen are still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _read_cluster(api, namespace: str) -> LiveState:
    """The LISTs go out at once (still one request per kind): the server prepares the large ones while we
    parse the small ones, and a slow link costs one round trip instead of nine. Results are used in READS
    order, so what is read, and every error, is the same as one by one."""
    state = LiveState(source=f"cluster {api.configuration.host}")
    missing_crds = []
    paths = [template.format(ns=namespace) for template, _, _ in READS]
    for (_, kind, required), path, future in zip(READS, paths, _list_at_once(api, paths)):
        try:
            items = future.result()
        except ApiFailure as exc:
            if exc.status == 404 and "velero.io" in path:
                missing_crds.append(kind)
                continue
            if exc.status in (403, 404) and not required:
                continue
            raise
        api_version = "velero.io/v1" if "velero.io" in path else ("apps/v1" if "/apps/" in path else "v1")
        for obj in items:
            if "kind" not in obj:
                obj["kind"] = kind
            if "apiVersion" not in obj:
                obj["apiVersion"] = api_version
        state.add_list(kind, items, namespace)
    if missing_crds:
        raise VeleroMissing(f"Velero is not installed in this cluster ({api.configuration.host}): its CRDs "
                            f"({', '.join(missing_crds)}) are not served; install Velero first (velero install)")
    return state


def _list_at_once(api, paths: list[str]) -> list:
    """list_all of every path, each on a daemon thread, as futures: Ctrl-C or an error stops the read at once
    (a pool's worker threads would hold the process until their requests time out)."""
    import threading
    from concurrent.futures import Future

    def fetch(path: str, future: Future) -> None:
        try:
            future.set_result(list_all(api, path))
        except BaseException as exc:  # handed to the reader, which raises it in the main thread
            future.set_exception(exc)

    futures = [Future() for _ in paths]
    for path, future in zip(paths, futures):
        threading.Thread(target=fetch, args=(path, future), name=f"list {path}", daemon=True).start()
    return futures


def list_all(api, path: str) -> list[dict]:
    """Every item at `path` in one LIST without `limit` (like `kubectl get --chunk-size=0`), so a plan costs one
    request per kind at any size. A `continue` token is still followed should a server send one."""
    items: list[dict] = []
    token = None
    while True:
        page = get_json(api, path, [("continue", token)] if token else None)
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items
