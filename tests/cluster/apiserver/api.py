"""Serve resource requests (get, list, watch and the writes in writes.py) from the store over HTTP values."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from . import errors, writes
from .errors import ApiError
from .resources import CRD_GVR, ResourceType
from .routing import Request, Response, Target
from .selectors import parse_field_selector, parse_label_selector
from .store import Store
from .table import table
from .watchers import Watcher


@dataclass
class WatchStream:
    """A streaming answer: one JSON event per line until the watcher closes or `timeout` passes."""

    watcher: Watcher | None
    encode: Callable[[str, object], bytes]
    timeout: float | None
    first: bytes = b""                 # sent before any event (the ERROR event of an expired watch)
    bookmark: Callable[[], bytes] | None = None


def json_response(status: int, body: object, warnings: list[str] = ()) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    return Response(status, raw, headers=[("Warning", warning_header(w)) for w in warnings])


def warning_header(text: str) -> str:
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_response(err: ApiError) -> Response:
    return Response(err.code, json.dumps(err.status(), separators=(",", ":")).encode(),
                    headers=list(err.headers.items()))


def wants_table(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


def handle(store: Store, target: Target, request: Request) -> Response | WatchStream:
    rt = store.resource_type(target.gvr)
    if rt.namespaced and target.namespace is None and target.verb not in ("list", "watch"):
        raise errors.no_such_path()
    if not rt.namespaced and target.namespace is not None:
        raise errors.no_such_path()
    if target.subresource and (target.subresource != "status" or not rt.status_subresource
                               or target.verb not in ("get", "update", "patch")):
        raise errors.no_such_path()
    if target.verb == "get":
        return _get(store, rt, target, request)
    if target.verb == "list":
        return _list(store, rt, target, request)
    if target.verb == "watch":
        return _watch(store, rt, target, request)
    operation = writes.OPERATIONS.get(target.verb)
    if operation is None or rt.gvr == CRD_GVR:  # CRDs are installed in-process (Store.register_crd)
        raise errors.method_not_allowed(target.verb, rt.plural, rt.group)
    return operation(store, rt, target, request)


def _get(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    entry = store.get_entry(rt.gvr, target.namespace, target.name)
    if wants_table(request):
        return json_response(200, table(rt, [entry.obj], store.clock.now(), resource_version=store.resource_version,
                                        include=request.param("includeObject", "Metadata")))
    return Response(200, entry.raw)


def _selectors(rt: ResourceType, request: Request):
    label = parse_label_selector(request.param("labelSelector"))
    field, name = parse_field_selector(request.param("fieldSelector"), rt.plural)
    return label, field, name


def _list(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    label, field, name = _selectors(rt, request)
    limit = request.param("limit")
    try:
        limit_n = int(limit) if limit else None
    except ValueError:
        raise errors.bad_request(f'invalid limit: "{limit}"') from None
    page = store.list_entries(rt.gvr, target.namespace, label_selector=label, field_selector=field, name=name,
                              limit=limit_n if limit_n and limit_n > 0 else None,
                              continue_token=request.param("continue"))
    if wants_table(request):
        return json_response(200, table(rt, [e.obj for e in page.entries], store.clock.now(),
                                        resource_version=page.resource_version, continue_token=page.continue_token,
                                        include=request.param("includeObject", "Metadata")))
    meta: dict = {"resourceVersion": page.resource_version}
    if page.continue_token:
        meta["continue"] = page.continue_token
        if page.remaining is not None:
            meta["remainingItemCount"] = page.remaining
    head = json.dumps(rt.api_version).encode()
    tail = json.dumps({"kind": rt.list_kind, "metadata": meta}, separators=(",", ":")).encode()
    body = b'{"apiVersion":' + head + b',"items":[' + b",".join(e.raw for e in page.entries) + b"]," + tail[1:]
    return Response(200, body)


def _watch(store: Store, rt: ResourceType, target: Target, request: Request) -> WatchStream:
    label, field, _ = _selectors(rt, request)
    timeout = request.param("timeoutSeconds")
    seconds = float(timeout) if timeout else None
    as_table = wants_table(request)
    now = store.clock.now
    include = request.param("includeObject", "Metadata")

    def encode(event: str, entry) -> bytes:
        if as_table and event != "ERROR":
            obj = json.dumps(table(rt, [entry.obj], now(), include=include), separators=(",", ":")).encode()
        else:
            obj = entry.raw
        return b'{"type":"' + event.encode() + b'","object":' + obj + b"}\n"

    def bookmark() -> bytes:
        mark = {"kind": rt.kind, "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": store.resource_version, "creationTimestamp": None}}
        return b'{"type":"BOOKMARK","object":' + json.dumps(mark, separators=(",", ":")).encode() + b"}\n"

    try:
        watcher = store.watch(rt.gvr, target.namespace, request.param("resourceVersion"),
                              label_selector=label, field_selector=field)
    except ApiError as err:
        if err.code != 410:
            raise
        status = json.dumps(err.status(), separators=(",", ":")).encode()
        return WatchStream(None, encode, 0, first=b'{"type":"ERROR","object":' + status + b"}\n")
    return WatchStream(watcher, encode, seconds, bookmark=bookmark if request.flag("allowWatchBookmarks") else None)
