"""The benchmark's test cluster, in this process: grown to each size through the HTTPS API, with a
namespace of its own for the apply measurement."""
from __future__ import annotations

import json
from pathlib import Path

from bench import workload
from bench.populate import HttpClient, collection_path, create_all
from bench.workload import Sizes


class BenchCluster:
    def __init__(self, workdir: Path):
        from tests.cluster.apiserver.cluster import Cluster
        from tests.cluster.apiserver.tls import ca_pem

        self.workdir = workdir
        self.cluster = Cluster(with_velero=True).start()
        self.kubeconfig = self.cluster.write_kubeconfig(workdir / "kubeconfig")
        self.http = HttpClient(self.cluster.url, self.cluster.token, ca_pem())
        self.sizes: Sizes | None = None
        self.created: set[tuple[str, str, str]] = set()

    def stop(self) -> None:
        self.cluster.stop()

    def __enter__(self) -> "BenchCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def requests(self):
        """The cluster's request counter (reset, snapshot)."""
        return self.cluster.requests

    @property
    def faults(self):
        return self.cluster.faults

    def grow(self, sizes: Sizes) -> Path:
        """Bring the cluster to `sizes` (from a smaller one), over HTTP, as if the policy had been applied and
        its schedules had run; returns the planned policy of matching size."""
        if self.sizes is not None and self.sizes.shape != sizes.shape:
            raise ValueError("a cluster grows within one workload's shape")
        here = self.workdir / f"{sizes.shape.name}-n{sizes.n}"
        applied = workload.write_policy(here / "applied", sizes, planned=False)
        config = [o for o in workload.applied_objects(applied) if _key(o) not in self.created]
        create_all(self.http, config)
        first = self.sizes.backups if self.sizes else 0
        create_all(self.http, [workload.backup(j, sizes) for j in range(first, sizes.backups)])
        self.created.update(_key(o) for o in config)
        self.sizes = sizes
        return workload.write_policy(here / "planned", sizes, planned=True)

    def create_namespace(self, name: str) -> None:
        create_all(self.http, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])

    def create(self, objects: list[dict]) -> None:
        create_all(self.http, objects)

    def count(self, kind: str, namespace: str) -> int:
        status, body = self.http.request("GET", collection_path(kind, namespace))
        if status != 200:
            raise RuntimeError(f"list {kind} in {namespace}: {status}")
        return len(json.loads(body)["items"])

    def delete_all(self, kind: str, namespace: str) -> None:
        status, body = self.http.request("DELETE", collection_path(kind, namespace))
        if status >= 300:
            raise RuntimeError(f"delete {kind} in {namespace}: {status} {body[:200]!r}")


def _key(obj: dict) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace") or "", meta["name"]
