"""A store with Velero installed, moto S3 and the simulator, wired for tests (the `sim_cluster` fixture).
Used by tests/cluster/test_velero_sim*.py; other tests may import it too."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.cluster.clock import ManualClock
from tests.cluster.s3 import MotoS3, S3Credentials

from . import objects
from .kube import BACKUP, BSL, DEPLOYMENT, NAMESPACE, RESTORE, SCHEDULE, SECRET
from .simulator import VeleroSimulator, run_until
from .times import parse_duration

START = datetime.fromisoformat("2026-11-24T00:00:00+00:00")


@dataclass
class SimCluster:
    store: object
    clock: ManualClock  # or a RealClock when made with one (then run() does not apply)
    s3: MotoS3
    sim: VeleroSimulator
    namespace: str = "velero"

    def create(self, gvr: tuple[str, str, str], obj: dict) -> dict:
        return self.store.create(gvr, None if gvr == NAMESPACE else self.namespace, obj)

    def get(self, gvr: tuple[str, str, str], name: str) -> dict:
        return self.store.get(gvr, self.namespace, name)

    def names(self, gvr: tuple[str, str, str]) -> list[str]:
        items, _ = self.store.list(gvr, self.namespace)
        return sorted(o["metadata"]["name"] for o in items)

    def status(self, gvr: tuple[str, str, str], name: str) -> dict:
        return self.get(gvr, name).get("status") or {}

    def add_credentials(self, secret: str, creds: S3Credentials, key: str = "cloud") -> None:
        self.create(SECRET, objects.credentials_secret(secret, creds.shared_credentials_file(), key))

    def add_location(self, name: str, bucket: str, secret: str | None, **kwargs: object) -> dict:
        kwargs.setdefault("s3_url", self.s3.url)
        credential = (secret, "cloud") if secret else None
        return self.create(BSL, objects.storage_location(name, bucket, credential=credential, **kwargs))

    def run(self, span: timedelta, tick: timedelta | None = None) -> None:
        run_until(self.sim, self.clock, span, tick)


def new_sim_cluster(s3: MotoS3, *, namespaces: tuple[str, ...] = ("app-a", "app-b"),
                    start: datetime = START, clock: object | None = None, server_args: dict | None = None) -> SimCluster:
    """Velero's CRDs and namespace, its Deployment, a few application namespaces, and a simulator
    whose stand-in for AWS is the moto server. `server_args` are velero server flags, e.g.
    {"default-backup-ttl": "240h"}: written into the Deployment's args and obeyed by the simulator."""
    from tests.cluster.apiserver.resources import velero_crds
    from tests.cluster.apiserver.store import Store

    clock = clock or ManualClock(start)
    store = Store(clock)
    for crd in velero_crds():
        store.register_crd(crd)
    for name in ("velero", *namespaces):
        store.create(NAMESPACE, None, objects.namespace(name))
    deployment = objects.velero_deployment()
    args = dict(server_args or {})
    deployment["spec"]["template"]["spec"]["containers"][0]["args"] += [f"--{k}={v}" for k, v in args.items()]
    store.create(DEPLOYMENT, "velero", deployment)
    options: dict = {}
    if "default-backup-ttl" in args:
        options["default_ttl"] = parse_duration(args["default-backup-ttl"])
    if "default-backup-storage-location" in args:
        options["default_location"] = args["default-backup-storage-location"]
    return SimCluster(store, clock, s3, VeleroSimulator(store, clock, s3.url, **options))


@pytest.fixture
def sim_cluster(s3: MotoS3) -> SimCluster:
    return new_sim_cluster(s3)


__all__ = ["BACKUP", "BSL", "RESTORE", "SCHEDULE", "SECRET", "SimCluster", "new_sim_cluster", "sim_cluster"]
