"""pytest fixtures for the conformance tier, registered for the whole suite (tests/conftest.py) so that existing
tests can be parametrised over both worlds with `WORLDS`. Items marked `conformance` are deselected unless
SNAPPLAN_CONFORMANCE=1 (`make conformance`), so the default suite never starts a real program."""
from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from .binaries import Binaries
from .harness import VELERO_NS, RealCluster
from .store import RealStore

ENABLED = os.environ.get("SNAPPLAN_CONFORMANCE") == "1"
# Parametrise a cluster fixture with these: "simulator" is the in-process test cluster, "real" the real programs.
WORLDS = ["simulator", pytest.param("real", marks=pytest.mark.conformance)]
VELERO_KINDS = ("schedules", "backupstoragelocations", "volumesnapshotlocations", "restores",
                "deletebackuprequests", "backups")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: runs against real etcd/kube-apiserver/Velero (make conformance)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    keep = [item for item in items if item.get_closest_marker("conformance") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker("conformance")])
        items[:] = keep


@pytest.fixture(scope="session")
def real_cluster(moto_s3) -> Iterator[RealCluster]:
    binaries = Binaries.default()
    missing = binaries.missing()
    if missing:
        pytest.skip(f"conformance: not built: {', '.join(missing)} in {binaries.folder} (run `make conformance-build`)")
    with RealCluster(binaries, s3=moto_s3, keep=os.environ.get("SNAPPLAN_CONFORMANCE_KEEP") == "1") as cluster:
        yield cluster


@dataclass
class RealView:
    """The real cluster as one test sees it, shaped like tests.cluster's Cluster where tests touch it.
    `s3` is the object store of this test (moto, or MinIO for the S3 scenarios' second run), `secret_name`
    the Secret in `velero` holding Velero's credentials for it, `credentials` those credentials."""

    cluster: RealCluster
    bucket: str
    objects: object = None
    secret_name: str = "cloud-credentials"
    credentials: object = None
    velero_namespace: str = VELERO_NS
    store: RealStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = RealStore(self.cluster.kube)
        self.objects = self.objects or self.cluster.s3
        self.credentials = self.credentials or self.cluster.velero_credentials

    @property
    def url(self) -> str:
        return self.cluster.url

    @property
    def token(self) -> str:
        return self.cluster.token

    @property
    def s3(self):
        return self.objects

    def write_kubeconfig(self, path: str | Path, *args, **kwargs) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cluster.kubeconfig.read_bytes())
        path.chmod(0o600)
        return path

    def wait_for(self, predicate, timeout: float = 90, what: str = "ready"):
        return self.cluster.wait_for(predicate, timeout, what)


@pytest.fixture
def real(real_cluster: RealCluster, s3) -> Iterator[RealView]:
    """The session's real cluster with an empty `velero` namespace (as `velero install` left it), moto reset
    (the `s3` fixture) with a fresh user for Velero, and a bucket of this test's own."""
    for attempt in range(3):
        try:
            real_cluster.refresh_credentials()
            break
        except ClientError:
            # A request from velero (say, a deletion still running from the last test) landed in moto's short
            # unauthenticated window of reset() and took the admin's place: reset again.
            if attempt == 2:
                raise
            s3.reset()
    bucket = f"conf-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    yield RealView(real_cluster, bucket)
    _empty_velero_namespace(real_cluster)


def _empty_velero_namespace(cluster: RealCluster) -> None:
    """Locations go before backups: else Velero's sync would bring the deleted Backups back from the bucket."""
    kube = cluster.kube
    for resource in VELERO_KINDS:
        for obj in kube.list("velero.io", resource, VELERO_NS):
            kube.delete("velero.io", resource, VELERO_NS, obj["metadata"]["name"])
    for secret in kube.list("", "secrets", VELERO_NS):
        if secret["metadata"]["name"] not in ("cloud-credentials", "velero-repo-credentials"):
            kube.delete("", "secrets", VELERO_NS, secret["metadata"]["name"])
    for lease in kube.list("coordination.k8s.io", "leases", VELERO_NS):
        kube.delete("coordination.k8s.io", "leases", VELERO_NS, lease["metadata"]["name"])


@pytest.fixture(scope="session")
def minio_server(real_cluster: RealCluster):
    binary = real_cluster.binaries.folder / "minio"
    if not binary.exists():
        pytest.skip(f"conformance: MinIO not built ({binary}); see RESULTS.md")
    from .minio import MinioS3
    server = MinioS3(binary, real_cluster.workdir)
    yield server
    server.stop()


@pytest.fixture(params=["moto", "minio"])
def s3real(request, real: RealView) -> RealView:
    """`real` with moto (auth on, as the test cluster runs it), or with MinIO built from its Go module and the
    aws plugin's default checksum settings: S3-compatible stores differ exactly there."""
    if request.param == "moto":
        return real
    minio = request.getfixturevalue("minio_server")
    bucket = f"conf-{uuid.uuid4().hex[:10]}"
    minio.create_bucket(bucket)
    text = minio.admin.shared_credentials_file()
    real.cluster.kube.create("", "secrets", VELERO_NS, {
        "metadata": {"name": "minio-credentials"}, "type": "Opaque",
        "data": {"cloud": base64.b64encode(text.encode()).decode()}})
    return RealView(real.cluster, bucket, objects=minio, secret_name="minio-credentials", credentials=minio.admin)
