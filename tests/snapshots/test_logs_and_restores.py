"""`snapplan snapshots logs`, `snapplan restores [show | logs]` on the test cluster with the Velero
simulator: Velero's files fetched through a DownloadRequest and its signed URL, as the velero CLI does."""
from __future__ import annotations

import json

import pytest

from tests.apply.test_restores_live import NS, apply, creds, policy, take_backup, velero_cluster  # noqa: F401
from tests.helpers import run_cli

DOWNLOADS = ("velero.io", "v1", "downloadrequests")


@pytest.fixture
def live(cluster_factory, s3, creds, tmp_path, capsys, monkeypatch):  # noqa: F811
    cluster, _ = velero_cluster(cluster_factory, s3)
    for name in ("shop", "shop-db"):
        cluster.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    restores = "  back: {from: {backup: full-20261124020000}, scope: application, app: shop, namespaceMapping: {shop: shop-r}}"
    assert apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3)).code == 0
    take_backup(cluster, "full-20261124020000", "full", ["*"])
    assert apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, restores, name="p2.yaml")).code == 0
    return cluster, ["--kubeconfig", str(kubeconfig)]


def test_snapshots_logs_prints_velero_log_of_a_backup(live, capsys, monkeypatch):
    cluster, kc = live
    res = run_cli(["snapshots", "logs", "full-20261124020000", *kc], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert 'level=info msg="Backup completed" backup=velero/full-20261124020000' in res.out
    [request] = cluster.store.list(DOWNLOADS, "velero")[0]
    assert request["metadata"]["name"].startswith("full-20261124020000-")
    assert request["spec"]["target"] == {"kind": "BackupLog", "name": "full-20261124020000"}
    res = run_cli(["snapshots", "logs", "nope", *kc], capsys, monkeypatch)
    assert res.code == 1 and "no backup named nope in namespace velero" in res.err


def test_restores_list_show_and_logs(live, capsys, monkeypatch):
    _, kc = live
    res = run_cli(["restores", *kc], capsys, monkeypatch)
    assert res.code == 0, res.err
    header, row = res.out.splitlines()[:2]
    assert header.split() == ["NAME", "BACKUP", "PHASE", "ITEMS", "WARN/ERR", "COMPLETED", "BY"]
    assert row.split()[:5] == ["back", "full-20261124020000", "Completed", row.split()[3], "0/0"]
    assert row.split()[-1] == "policy"
    doc = json.loads(run_cli(["restores", "show", "back", "--json", *kc], capsys, monkeypatch).out)
    assert doc["namespace_mapping"] == {"shop": "shop-r"} and doc["results"] == {"warnings": {}, "errors": {}}
    text = run_cli(["restores", "show", "back", *kc], capsys, monkeypatch).out
    assert "Namespaces:         shop -> shop-r" in text and "Logs: snapplan restores logs back" in text
    res = run_cli(["restores", "logs", "back", *kc], capsys, monkeypatch)
    assert res.code == 0 and 'msg="restore completed" restore=velero/back' in res.out
    res = run_cli(["restores", "show", "gone", *kc], capsys, monkeypatch)
    assert res.code == 1 and "no restore named gone in namespace velero" in res.err
