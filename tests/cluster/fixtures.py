"""pytest fixtures for the test API server: a fresh cluster per test, its kubeconfig, clients, kubectl."""
from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
from http import client as httpclient
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .apiserver.cluster import Cluster
from .apiserver.tls import ca_pem
from .clock import ManualClock


@pytest.fixture
def cluster_factory() -> Iterator[Callable[..., Cluster]]:
    """Start clusters (Cluster(**kwargs)); all are stopped after the test."""
    started: list[Cluster] = []

    def make(**kwargs) -> Cluster:
        kwargs.setdefault("clock", ManualClock())
        c = Cluster(**kwargs).start()
        started.append(c)
        return c
    yield make
    for c in started:
        c.stop()


@pytest.fixture
def cluster(cluster_factory: Callable[..., Cluster]) -> Cluster:
    """A started cluster with Velero installed and a ManualClock, fresh for this test."""
    return cluster_factory()


@pytest.fixture
def velero_sim(cluster: Cluster, s3):
    """The Velero simulator attached to `cluster` (S3: the `s3` fixture's moto); drive it with
    `cluster.clock.advance(...)` then `cluster.step()`."""
    from .velero_sim import VeleroSimulator
    return cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))


@pytest.fixture
def kubeconfig(cluster: Cluster, tmp_path: Path) -> Path:
    return cluster.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kubeconfig: Path):
    """The official kubernetes ApiClient, configured from the cluster's kubeconfig."""
    from kubernetes import config
    client = config.new_client_from_config(str(kubeconfig))
    yield client
    client.close()


@dataclass
class Answer:
    status: int
    headers: httpclient.HTTPMessage
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Http:
    """Raw HTTPS requests to a cluster (for headers and bodies the official client hides)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._ctx = ssl.create_default_context(cadata=ca_pem().decode())

    def connection(self, timeout: float = 10) -> httpclient.HTTPSConnection:
        host, port = self.cluster.url.removeprefix("https://").rsplit(":", 1)
        return httpclient.HTTPSConnection(host, int(port), context=self._ctx, timeout=timeout)

    def request(self, method: str, path: str, body: object = None, *, headers: dict | None = None,
                token: str | None = "", timeout: float = 10) -> Answer:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.cluster.token}"
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()


@pytest.fixture
def http(cluster: Cluster) -> Http:
    return Http(cluster)


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run kubectl against the cluster (fresh KUBECACHEDIR); skips the test when kubectl is absent."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    cache = tmp_path / "kube-cache"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(cache), "HOME": str(tmp_path),
           "NO_COLOR": "1", "COLUMNS": "200"}

    def run(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([binary, *args], input=input, capture_output=True, text=True, env=env,
                              timeout=timeout)
    return run
