"""`snapplan plan` against a live cluster (the test API server over HTTPS): one LIST per kind, clear errors."""
from __future__ import annotations

import json
import socket

import pytest

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, NOW, run_cli, write

MINIMAL = str(EXAMPLES / "minimal" / "policy.yaml")


@pytest.fixture
def live(tmp_path):
    with Cluster() as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def _backup(i: int) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": f"nightly-{i:05d}", "namespace": "velero",
                         "labels": {"velero.io/schedule-name": "nightly"}},
            "spec": {"includedNamespaces": ["*"], "storageLocation": "default", "ttl": "720h0m0s"}}


def test_plan_reads_the_cluster_with_one_list_per_kind(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    res = run_cli(["plan", "--json", "-f", MINIMAL, "--kubeconfig", str(kubeconfig), "--now", NOW],
                  capsys, monkeypatch)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert [r["address"] for r in doc["resource_changes"]] == ["bsl.default", "schedule.nightly"]
    assert doc["state"].startswith("cluster https://127.0.0.1:")
    first = sum(cluster.requests.snapshot().values())
    for i in range(300):
        cluster.store.create(("velero.io", "v1", "backups"), "velero", _backup(i))
    cluster.requests.reset()
    res = run_cli(["plan", "--json", "-f", MINIMAL, "--kubeconfig", str(kubeconfig), "--now", NOW],
                  capsys, monkeypatch)
    assert res.code == 0, res.err
    assert sum(cluster.requests.snapshot().values()) == first  # flat: does not grow with the objects
    assert all(verb == "list" for verb, _ in cluster.requests.snapshot())


def test_cluster_without_velero_is_one_clear_error(tmp_path, capsys, monkeypatch):
    with Cluster(with_velero=False) as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kc")
        res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 1
    assert res.err.startswith("Error: Velero is not installed in this cluster")
    assert res.err.count("\n") == 1


def test_unreachable_cluster_and_bad_token_and_wrong_context(live, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig = live
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(kubeconfig), "--context", "nope"], capsys, monkeypatch)
    assert res.code == 1 and f"context 'nope' is not in {kubeconfig} (contexts: test)" in res.err
    bad = write(tmp_path / "bad-token", kubeconfig.read_text().replace(cluster.token, "wrong-token"))
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(bad)], capsys, monkeypatch)
    assert res.code == 1 and "401 Unauthorized" in res.err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = write(tmp_path / "down", kubeconfig.read_text().replace(cluster.url, f"https://127.0.0.1:{port}"))
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(down)], capsys, monkeypatch)
    assert res.code == 1 and "cannot reach the Kubernetes API server" in res.err
    assert "Traceback" not in res.err


def test_missing_or_broken_kubeconfig_is_one_clear_error(tmp_path, capsys, monkeypatch):
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(tmp_path / "absent")], capsys, monkeypatch)
    assert res.code == 1 and f"kubeconfig {tmp_path / 'absent'} does not exist" in res.err
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(broken)], capsys, monkeypatch)
    assert res.code == 1 and f"{broken}:2: the kubeconfig is not valid YAML" in res.err
    assert "Internal error" not in res.err


def test_reads_are_retried_when_the_server_is_busy(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    busy = cluster.faults.add(verb="list", resource="backups", status=503, times=2)
    dropped = cluster.faults.add(verb="list", resource="schedules", drop=True, times=1)
    res = run_cli(["plan", "-f", MINIMAL, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert busy.fired == 2 and dropped.fired == 1
