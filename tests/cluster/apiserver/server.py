"""The HTTPS front: TLS per connection, bearer-token auth, fault injection, request counting, streaming.

A ThreadingHTTPServer with one thread per connection (HTTP/1.1 keep-alive); watches are chunked streams
that end at their timeoutSeconds, when the client goes away, or when the server stops.
"""
from __future__ import annotations

import hmac
import json
import logging
import select
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import api, discovery, errors, openapi
from .api import WatchStream, error_response, json_response
from .errors import ApiError
from .faults import Faults, FaultRule, RequestCounter
from .routing import Request, Response, resource_target
from .store import Store
from .tls import server_context

log = logging.getLogger(__name__)
DEBUG_PREFIX = "/debug/testcluster/"


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, app: "ApiServer") -> None:
        self.app = app
        self.connections: set = set()
        self.connections_lock = threading.Lock()
        self.streams = 0
        self.streams_done = threading.Condition(self.connections_lock)
        super().__init__(address, handler)

    def finish_request(self, request, client_address) -> None:
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request.settimeout(10)
        try:
            conn = server_context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        conn.settimeout(None)
        with self.connections_lock:
            self.connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def close_connections(self, grace: float = 2.0) -> None:
        """Close every connection, after giving open watches `grace` seconds to end their streams."""
        with self.connections_lock:
            self.streams_done.wait_for(lambda: self.streams == 0, timeout=grace)
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TLSServer

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        app = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request.parse(self.command, self.path, headers, self._read_body())
        if not app.authorized(headers.get("authorization", "")):
            return self._send(error_response(errors.unauthorized()))
        if request.path.startswith(DEBUG_PREFIX):
            try:
                return self._send(app.debug(request))
            except ApiError as err:
                return self._send(error_response(err))
        target = resource_target(request)
        verb, resource = (target.verb, target.resource) if target else (self.command.lower(), request.path)
        app.requests.add(verb, resource, *((target.group, target.namespace) if target else ()))
        decision = app.faults.decide(verb, resource, request.path)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        try:
            if decision.error:
                raise decision.error
            answer = app.answer(request, target)
        except ApiError as err:
            answer = error_response(err)
        except Exception as err:  # a bug in the test server still answers like a server would
            log.exception("test API server failed on %s %s", self.command, self.path)
            answer = error_response(errors.internal_error(f"test server bug: {err!r}"))
        if isinstance(answer, WatchStream):
            return self._stream(answer)
        return self._send(answer)

    def _send(self, response: Response) -> None:
        lines = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}",
                 f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}",
                 f"Audit-Id: {uuid.uuid4()}", "Cache-Control: no-cache, private",
                 f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + (response.body if self.command != "HEAD" else b""))
        self.log_request(response.status, len(response.body))

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            self.connection.setblocking(False)
            try:
                return self.connection.recv(1) == b""
            finally:
                self.connection.setblocking(True)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ValueError):
            return True

    def _stream(self, stream: WatchStream) -> None:
        with self.server.connections_lock:
            self.server.streams += 1
        try:
            self._stream_events(stream)
        finally:
            with self.server.connections_lock:
                self.server.streams -= 1
                self.server.streams_done.notify_all()

    def _stream_events(self, stream: WatchStream) -> None:
        self.close_connection = True
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                         b"Cache-Control: no-cache, private\r\n\r\n")
        deadline = None if stream.timeout is None else time.monotonic() + stream.timeout
        watcher = stream.watcher
        try:
            if stream.first:
                self._chunk(stream.first)
            while watcher is not None and not self.server.app.stopping.is_set():
                wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                if wait <= 0:
                    if stream.bookmark:
                        self._chunk(stream.bookmark())
                    break
                item = watcher.next(wait)
                if item is None:
                    if self._client_gone():
                        return
                    continue
                event, entry = item
                if event == "CLOSED":
                    break
                self._chunk(stream.encode(event, entry))
            self.wfile.write(b"0\r\n\r\n")
        except (OSError, ssl.SSLError):
            pass
        finally:
            if watcher is not None:
                watcher.close()


class ApiServer:
    """Serves a Store over HTTPS on 127.0.0.1 with bearer-token auth."""

    def __init__(self, store: Store, token: str, *, host: str = "127.0.0.1", port: int = 0,
                 faults: Faults | None = None, requests: RequestCounter | None = None) -> None:
        self.store = store
        self.token = token
        self.faults = faults or Faults()
        self.requests = requests or RequestCounter()
        self.stopping = threading.Event()
        self._address = (host, port)
        self._httpd: _TLSServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"https://{host}:{port}"

    def start(self) -> "ApiServer":
        self._httpd = _TLSServer(self._address, _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-apiserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self.store.close_watchers()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._httpd = None

    def authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.token.encode())

    def answer(self, request: Request, target) -> Response | WatchStream:
        if request.method not in ("GET", "HEAD") and target is None:
            raise errors.method_not_allowed(request.method, "", "")
        if target is not None:
            return api.handle(self.store, target, request)
        return self._non_resource(request)

    def _non_resource(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        types = self.store.types()
        if path == "/version":
            return json_response(200, discovery.VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path in ("/api", "/apis"):
            version = discovery.wants_aggregated(request.headers.get("accept", ""))
            if version:
                body = discovery.aggregated(types, core=path == "/api", version=version)
                return Response(200, json.dumps(body).encode(), discovery.AGGREGATED.format(v=version))
            if path == "/api":
                return json_response(200, discovery.api_versions(f"{self._address[0]}:{self._port()}"))
            return json_response(200, discovery.api_group_list(types))
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2:
            group = next((g for g in discovery.api_group_list(types)["groups"] if g["name"] == parts[1]), None)
            if group is not None:
                return json_response(200, {"kind": "APIGroup", "apiVersion": "v1", **group})
        if parts[0] in ("api", "apis") and len(parts) == (2 if parts[0] == "api" else 3):
            listing = discovery.resource_list(types, "" if parts[0] == "api" else parts[1], parts[-1])
            if listing is not None:
                return json_response(200, listing)
        if parts[0] == "openapi" and len(parts) >= 2 and parts[1] == "v3":
            root, docs = openapi.documents(frozenset(types))
            if len(parts) == 2:
                return Response(200, root)
            doc = docs.get("/".join(parts[2:]))
            if doc is not None:
                return Response(200, doc)
        raise errors.no_such_path()

    def _port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._address[1]

    def debug(self, request: Request) -> Response:
        """/debug/testcluster/requests (GET counts, DELETE resets) and /debug/testcluster/faults (POST a
        rule as JSON, DELETE all rules)."""
        what = request.path[len(DEBUG_PREFIX):].strip("/")
        if what == "requests" and request.method == "GET":
            counts = [{"verb": v, "resource": r, "count": n} for (v, r), n in sorted(self.requests.snapshot().items())]
            return json_response(200, {"counts": counts, "total": sum(c["count"] for c in counts)})
        if what == "requests" and request.method == "DELETE":
            self.requests.reset()
            return json_response(200, {"counts": [], "total": 0})
        if what == "faults" and request.method == "POST":
            try:
                rule = self.faults.add(FaultRule(**json.loads(request.body or b"{}")))
            except (TypeError, ValueError) as err:
                raise errors.bad_request(f"bad fault rule: {err}") from None
            return json_response(201, {"added": repr(rule)})
        if what == "faults" and request.method == "DELETE":
            self.faults.clear()
            return json_response(200, {"cleared": True})
        raise errors.no_such_path()
