"""Certificates (one trustme CA and server certificate per process) and kubeconfig files."""
from __future__ import annotations

import base64
import ssl
import threading
from pathlib import Path

import trustme
import yaml

_lock = threading.Lock()
_state: dict[str, object] = {}


def session_ca() -> trustme.CA:
    """The process-wide test CA; every test server's certificate is issued by it."""
    with _lock:
        if "ca" not in _state:
            _state["ca"] = trustme.CA(organization_name="snapplan test cluster")
        return _state["ca"]  # type: ignore[return-value]


def server_context() -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 and localhost (shared by all servers)."""
    ca = session_ca()
    with _lock:
        if "ctx" not in _state:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.set_alpn_protocols(["http/1.1"])
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
            _state["ctx"] = ctx
        return _state["ctx"]  # type: ignore[return-value]


def ca_pem() -> bytes:
    return session_ca().cert_pem.bytes()


def kubeconfig(server: str, token: str, context: str = "test", namespace: str | None = None) -> dict:
    """A kubeconfig with the CA as certificate-authority-data and bearer-token auth."""
    ctx: dict = {"cluster": context, "user": context}
    if namespace:
        ctx["namespace"] = namespace
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": context, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem()).decode()}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
    }


def write_kubeconfig(path: str | Path, server: str, token: str, context: str = "test",
                     namespace: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig(server, token, context, namespace), sort_keys=False))
    path.chmod(0o600)
    return path
