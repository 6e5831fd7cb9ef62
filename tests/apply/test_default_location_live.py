"""Moving `default: true` between locations against the Velero simulator (wall clock, sped up): Velero keeps
only the most recently created default (backup_storage_location_controller.go ensureSingleDefaultBSL)."""
from __future__ import annotations

import time

import pytest

from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator, objects
from tests.cluster.velero_sim.kube import BSL, SECRET
from tests.helpers import run_cli, write


def policy(tmp_path, s3, defaults: dict[str, bool]):
    storage = "".join(f"""
  {name}:
    type: s3-compatible
    default: {str(d).lower()}
    bucket: velero
    prefix: {name}
    endpoint: {s3.url}
    region: us-east-1
    credentials: {{secretRef: {{name: cloud-credentials, key: cloud}}}}""" for name, d in defaults.items())
    return write(tmp_path / "policy.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: defaults}}
storage:{storage}
""")


@pytest.fixture
def velero(cluster_factory, s3, tmp_path):
    cluster = cluster_factory(clock=RealClock(speed=60.0))
    cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))
    s3.create_bucket("velero")
    cluster.store.create(SECRET, "velero", objects.credentials_secret(
        "cloud-credentials", s3.create_credentials().shared_credentials_file()))
    cluster.run_controllers(period=0.05)
    return cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def apply(capsys, monkeypatch, kubeconfig, path, *extra):
    return run_cli(["apply", "--auto-approve", "--skip-storage-check", "--parallelism", "1", "-f", str(path),
                    "--kubeconfig", str(kubeconfig), *extra], capsys, monkeypatch)


def defaults(cluster) -> list[str]:
    return sorted(b["metadata"]["name"] for b in cluster.store.list(BSL, "velero")[0] if b["spec"].get("default"))


def test_moving_the_default_clears_the_old_one_first(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig = velero
    assert apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, {"alpha": True})).code == 0
    time.sleep(0.1)  # zeta is created some simulated seconds after alpha
    res = apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, {"alpha": False, "zeta": True}))
    assert res.code == 0, res.out + res.err
    assert defaults(cluster) == ["zeta"]
    # Back to alpha, the older one: were alpha set first, Velero would keep zeta (newer) and clear alpha.
    path = policy(tmp_path, s3, {"alpha": True, "zeta": False})
    plan = run_cli(["plan", "-f", str(path), "--kubeconfig", str(kubeconfig)], capsys, monkeypatch).out
    assert "after: bsl.zeta" in plan.split("BackupStorageLocation velero/alpha")[1].split("BackupStorageLocation")[0]
    res = apply(capsys, monkeypatch, kubeconfig, path)
    assert res.code == 0, res.out + res.err
    assert defaults(cluster) == ["alpha"]
    assert res.err.index("bsl.zeta: Modifications complete") < res.err.index("bsl.alpha: Modifications complete")


def test_velero_keeping_another_default_fails_the_apply(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig = velero
    path = policy(tmp_path, s3, {"alpha": False})
    assert apply(capsys, monkeypatch, kubeconfig, path).code == 0
    time.sleep(0.1)
    # Someone else's location, marked default and created after alpha: Velero keeps it as the default.
    cluster.store.create(BSL, "velero", objects.storage_location("other", "velero", credential=("cloud-credentials", "cloud"), prefix="other",
                                                         default=True, s3_url=s3.url))
    path = policy(tmp_path, s3, {"alpha": True})
    plan = run_cli(["plan", "-f", str(path), "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert "bsl.other (not in the policy) is marked default too and was created after bsl.alpha: " \
           "Velero keeps the most recently created default" in plan.out.replace("\n    ", " ")
    res = apply(capsys, monkeypatch, kubeconfig, path)
    assert res.code == 1
    assert "bsl.alpha: Velero cleared its default flag: bsl.other is the default" in res.out
    assert defaults(cluster) == ["other"]
