"""Restores end to end on the test cluster with the Velero simulator (wall clock, sped up) and moto:
full restore, a partial restore from a full snapshot, a restore from a partial snapshot, and disaster
recovery from a bucket into an empty cluster."""
from __future__ import annotations

import time

import pytest

from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator
from tests.helpers import run_cli, write

NS = ("", "v1", "namespaces")
BACKUPS = ("velero.io", "v1", "backups")
SPEED = 30.0  # simulated seconds per wall second: a backup of a few namespaces takes well under a second


def velero_cluster(cluster_factory, s3):
    cluster = cluster_factory(clock=RealClock(speed=SPEED))
    sim = cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))
    cluster.run_controllers(period=0.05)
    return cluster, sim


def policy(tmp_path, s3, restores: str = "", *, access_mode: str = "ReadWrite", name: str = "policy.yaml"):
    return write(tmp_path / name, f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: restores}}
veleroNamespace: velero
apps:
  shop: {{namespaces: [shop, shop-db]}}
storage:
  s3:
    type: s3-compatible
    default: true
    bucket: backups
    endpoint: {s3.url}
    region: us-east-1
    pathStyle: true
    accessMode: {access_mode}
    credentials: {{file: ./creds}}
schedules:
  full: {{scope: full, schedule: daily}}
  shop-only: {{scope: application, app: shop, schedule: hourly}}
{"restores:" if restores else ""}
{restores}""")


def take_backup(cluster, name, schedule, namespaces):
    cluster.store.create(BACKUPS, "velero", {
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "labels": {"velero.io/schedule-name": schedule}},
        "spec": {"includedNamespaces": list(namespaces), "storageLocation": "s3", "ttl": "720h0m0s"}})
    deadline = time.monotonic() + 30
    while (cluster.store.get(BACKUPS, "velero", name).get("status") or {}).get("phase") != "Completed":
        assert time.monotonic() < deadline, cluster.store.get(BACKUPS, "velero", name).get("status")
        time.sleep(0.05)


def apply(capsys, monkeypatch, kubeconfig, path):
    return run_cli(["apply", "--auto-approve", "-f", str(path), "--kubeconfig", str(kubeconfig), "--timeout", "60s"],
                   capsys, monkeypatch)


@pytest.fixture
def creds(s3, tmp_path):
    s3.create_bucket("backups")
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())


def test_full_and_partial_restores(cluster_factory, s3, creds, tmp_path, capsys, monkeypatch):
    cluster, sim = velero_cluster(cluster_factory, s3)
    for name in ("shop", "shop-db", "blog"):
        cluster.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    assert apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3)).code == 0
    take_backup(cluster, "full-20261124020000", "full", ["*"])
    take_backup(cluster, "shop-only-20261125070000", "shop-only", ["shop", "shop-db"])

    restores = """  everything: {from: {schedule: full}, scope: full,
               namespaceMapping: {shop: shop-all, shop-db: shop-db-all, blog: blog-all}}
  shop-from-full: {from: {schedule: full}, scope: application, app: shop,
                   namespaceMapping: {shop: shop-r1, shop-db: shop-db-r1}}
  shop-from-partial: {from: {schedule: shop-only}, scope: application, app: shop,
                      namespaceMapping: {shop: shop-r2, shop-db: shop-db-r2}}"""
    path = policy(tmp_path, s3, restores)
    res = apply(capsys, monkeypatch, kubeconfig, path)
    assert res.code == 0, res.out + res.err
    assert "will restore full-20261124020000" in res.out and "will restore shop-only-20261125070000" in res.out
    assert "Apply complete! 3 added, 0 changed, 0 destroyed." in res.out
    assert "restore.shop-from-full: Creation complete (created; Completed, " in res.err
    assert "items restored, 0 warning(s), 0 error(s))" in res.err
    records = {r.name: r for r in sim.restore_records}
    assert records["shop-from-full"].backup == "full-20261124020000"
    assert records["shop-from-full"].namespaces == {"shop": "shop-r1", "shop-db": "shop-db-r1"}  # only the app
    assert records["shop-from-partial"].backup == "shop-only-20261125070000"
    assert records["shop-from-partial"].namespaces == {"shop": "shop-r2", "shop-db": "shop-db-r2"}
    assert {"shop-all", "shop-db-all", "blog-all"} <= set(records["everything"].namespaces.values())
    res = run_cli(["plan", "--detailed-exitcode", "-f", str(path), "--kubeconfig", str(kubeconfig)],
                  capsys, monkeypatch)
    assert res.code == 0 and "already ran: phase Completed" in res.out, res.out


def test_disaster_recovery_from_a_bucket_into_an_empty_cluster(cluster_factory, s3, creds, tmp_path, capsys,
                                                                monkeypatch):
    old, _ = velero_cluster(cluster_factory, s3)
    for name in ("shop", "shop-db"):
        old.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    old_kc = old.write_kubeconfig(tmp_path / "old-kubeconfig")
    assert apply(capsys, monkeypatch, old_kc, policy(tmp_path, s3)).code == 0
    take_backup(old, "full-20261124020000", "full", ["*"])
    old.stop()  # the old cluster is gone; its bucket is not

    new, sim = velero_cluster(cluster_factory, s3)
    new_kc = new.write_kubeconfig(tmp_path / "new-kubeconfig")
    dr = policy(tmp_path, s3, "  dr: {from: {backup: full-20261124020000}, scope: full}",
                access_mode="ReadOnly", name="dr.yaml")
    res = run_cli(["plan", "-f", str(dr), "--kubeconfig", str(new_kc)], capsys, monkeypatch)
    assert "backup full-20261124020000 is not in the cluster yet: apply waits until Velero has synced it" in res.out
    assert "# after: bsl.s3" in res.out.split("# restore.dr will be created")[1]
    res = apply(capsys, monkeypatch, new_kc, dr)
    assert res.code == 0, res.out + res.err
    err = res.err
    assert err.index("bsl.s3: Creation complete") < err.index("restore.dr: Creating...")
    assert "restore.dr: Creation complete (created; Completed, " in err
    assert [r.backup for r in sim.restore_records] == ["full-20261124020000"]
    assert {"shop", "shop-db"} <= set(sim.restore_records[0].created)
