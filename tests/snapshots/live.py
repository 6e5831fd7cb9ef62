"""The snapshots tests' cluster: the test API server over HTTPS with the Velero simulator (moto S3) and a policy
applied: two apps, one bucket, a nightly full schedule and a twice-daily one for the `shop` app."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.kube import BACKUP, BSL, DBR, NAMESPACE, RESTORE, SCHEDULE, SECRET
from tests.helpers import write

BUCKET = "backups"
POLICY = """\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: shop-prod}}
apps:
  shop: {{namespaces: [app-a]}}
  blog: {{namespaces: [app-b]}}
storage:
  primary:
    type: s3-compatible
    default: true
    bucket: {bucket}
    endpoint: {endpoint}
    region: us-east-1
    credentials: {{secretRef: {{name: cloud-credentials, key: cloud}}}}
schedules:
  nightly-full:
    scope: full
    schedule: "0 2 * * *"
    retention: {nightly_retention}
    exclude: [kube-system]
  shop-twice-daily:
    scope: application
    app: shop
    schedule: "0 */12 * * *"
    retention: 1d
"""


class SimDriver:
    """Velero running while the CLI waits: a thread moves the manual clock on one simulated second at a
    time and lets the simulator act, the way a real Velero keeps working behind a waiting client."""

    def __init__(self, cluster, pause: float = 0.005):
        self.cluster, self.pause = cluster, pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-driver", daemon=True)

    def _run(self) -> None:
        # Velero starts once the CLI watches: else a slow (loaded) test machine could let the whole backup
        # run between the CLI's create and its first read, and no progress would be seen.
        deadline = time.monotonic() + 30
        while self.cluster.store.events.watcher_count == 0 and time.monotonic() < deadline:
            if self._stop.wait(0.001):
                return
        while not self._stop.wait(self.pause):
            self.cluster.clock.advance(1)
            self.cluster.step()

    def __enter__(self) -> "SimDriver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@dataclass
class Live:
    cluster: object
    sim: object
    s3: object
    kubeconfig: Path
    policy: Path
    creds: object

    @property
    def store(self):
        return self.cluster.store

    def get(self, gvr, name):
        return self.store.get(gvr, "velero", name)

    def names(self, gvr) -> list[str]:
        items, _ = self.store.list(gvr, "velero")
        return sorted(o["metadata"]["name"] for o in items)

    def set_credentials(self, creds) -> None:
        """Replace what the location's Secret holds (e.g. with a wrong secret key)."""
        secret = self.get(SECRET, "cloud-credentials")
        secret["data"] = objects.credentials_secret("x", creds.shared_credentials_file())["data"]
        self.store.replace(SECRET, "velero", "cloud-credentials", secret)

    def run(self, until) -> None:
        from tests.cluster.velero_sim import run_until

        run_until(self.sim, self.cluster.clock, until)

    def write_policy(self, path: Path, nightly_retention: str = "7d") -> Path:
        return write(path, POLICY.format(bucket=BUCKET, endpoint=self.s3.url, nightly_retention=nightly_retention))


@pytest.fixture
def live(cluster, velero_sim, s3, tmp_path) -> Live:
    """The policy applied as `snapplan apply` writes it, the location validated Available."""
    from engine.model import build_desired
    from engine.model.manifest import to_manifest
    from engine.spec import load_policy

    s3.create_bucket(BUCKET)
    creds = s3.create_credentials()
    store = cluster.store
    for ns in ("app-a", "app-b"):
        store.create(NAMESPACE, None, objects.namespace(ns))
    store.create(SECRET, "velero", objects.credentials_secret("cloud-credentials", creds.shared_credentials_file()))
    live = Live(cluster, velero_sim, s3, cluster.write_kubeconfig(tmp_path / "kubeconfig"), Path(), creds)
    live.policy = live.write_policy(tmp_path / "policy.yaml")
    policy, _ = load_policy(live.policy, strict_sources=True, env={})
    for d in build_desired(policy, {}).objects.values():
        kind = d.obj["kind"]
        gvr = {"BackupStorageLocation": BSL, "Schedule": SCHEDULE}[kind]
        store.create(gvr, "velero", to_manifest(d))
    cluster.step()
    assert live.get(BSL, "primary")["status"]["phase"] == "Available"
    return live


__all__ = ["BACKUP", "BSL", "DBR", "RESTORE", "SCHEDULE", "SECRET", "Live", "SimDriver"]
