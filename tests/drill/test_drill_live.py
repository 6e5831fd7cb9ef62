"""`snapplan drill` on the test cluster with the Velero simulator: the newest Completed backup restored into
scratch namespaces, checked, cleaned up and recorded; failures, --keep, --junit, and what it never touches."""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from tests.apply.test_restores_live import NS, take_backup, velero_cluster
from tests.helpers import run_cli, write

RESTORES = ("velero.io", "v1", "restores")
CONFIGMAPS = ("", "v1", "configmaps")


def _policy(tmp_path, s3, extra: str = "") -> str:
    return str(write(tmp_path / "policy.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: drills}}
apps:
  shop:
    namespaces: [shop, shop-db]
{extra}
storage:
  s3:
    type: s3-compatible
    default: true
    bucket: backups
    endpoint: {s3.url}
    pathStyle: true
    credentials: {{file: ./creds}}
schedules:
  full: {{scope: full, schedule: daily}}
  shop-only: {{scope: application, app: shop, schedule: hourly}}
"""))


@pytest.fixture
def live(cluster_factory, s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("backups")
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    cluster, sim = velero_cluster(cluster_factory, s3)
    for name in ("shop", "shop-db", "blog"):
        cluster.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    kubeconfig = str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    policy = _policy(tmp_path, s3)
    res = run_cli(["apply", "--auto-approve", "-f", policy, "--kubeconfig", kubeconfig, "--timeout", "60s"],
                  capsys, monkeypatch)
    assert res.code == 0, res.err
    return cluster, kubeconfig, policy


def _app_backup(cluster, name):
    take_backup(cluster, name, "shop-only", ["shop", "shop-db"])
    backup = cluster.store.get(("velero.io", "v1", "backups"), "velero", name)
    backup["metadata"].setdefault("labels", {})["snapplan.io/app"] = "shop"
    cluster.store.replace(("velero.io", "v1", "backups"), "velero", name, backup)


def drill(capsys, monkeypatch, kubeconfig, policy, *args):
    return run_cli(["drill", "-f", policy, "--kubeconfig", kubeconfig, "--timeout", "60s", *args], capsys, monkeypatch)


def test_drill_restores_the_newest_completed_backup_into_scratch_namespaces(live, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    _app_backup(cluster, "shop-only-20261125060000")
    _app_backup(cluster, "shop-only-20261125070000")
    originals = {n: cluster.store.get(NS, None, n)["metadata"]["resourceVersion"] for n in ("shop", "shop-db")}
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--json", "--id", "a1b2c")
    assert res.code == 0, res.out + res.err
    doc = json.loads(res.out)
    assert doc["passed"] is True and len(doc["drills"]) == 1
    d = doc["drills"][0]
    assert d["backup"] == "shop-only-20261125070000" and d["app"] == "shop" and d["schedule"] == "shop-only"
    assert d["namespaces"] == [{"source": "shop", "scratch": "shop-drill-a1b2c"},
                               {"source": "shop-db", "scratch": "shop-db-drill-a1b2c"}]
    assert d["phase"] == "Completed" and d["items"]["restored"] == d["items"]["in_backup"] > 0
    assert {c["name"] for c in d["checks"]} == {"phase", "errors", "items", "namespace shop", "namespace shop-db"}
    assert d["cleanup"] == {"kept": False, "deleted": ["shop-drill-a1b2c", "shop-db-drill-a1b2c"], "left": []}
    restore = cluster.store.get(RESTORES, "velero", d["restore"])
    assert restore["spec"]["namespaceMapping"] == {"shop": "shop-drill-a1b2c", "shop-db": "shop-db-drill-a1b2c"}
    assert restore["spec"]["includeClusterResources"] is False
    names = {n["metadata"]["name"] for n in cluster.store.list(NS)[0]}
    assert "shop-drill-a1b2c" not in names and "shop-db-drill-a1b2c" not in names  # cleaned up
    # the originals were never written
    assert {n: cluster.store.get(NS, None, n)["metadata"]["resourceVersion"] for n in originals} == originals
    assert "restoring backup shop-only-20261125070000 into shop -> shop-drill-a1b2c" in res.err
    record = cluster.store.get(CONFIGMAPS, "velero", "snapplan-drill-app-shop")
    assert json.loads(record["data"]["last-success"])["backup"] == "shop-only-20261125070000"


def test_drill_text_keep_and_a_plan_that_ignores_drill_restores(live, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    take_backup(cluster, "full-20261125020000", "full", ["*"])
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--schedule", "full", "--keep", "--id", "k3ep1")
    assert res.code == 0, res.out + res.err
    assert "Drill of app shop from backup full-20261125020000 (schedule full): PASSED" in res.out
    assert "  ok shop restored as shop-drill-k3ep1" in res.out
    assert "  kept (--keep): namespaces shop-drill-k3ep1, shop-db-drill-k3ep1" in res.out
    assert res.out.rstrip().endswith("1 drill(s): 1 passed, 0 failed.")
    names = {n["metadata"]["name"] for n in cluster.store.list(NS)[0]}
    assert {"shop-drill-k3ep1", "shop-db-drill-k3ep1"} <= names
    plan = run_cli(["plan", "-f", policy, "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert plan.code == 0 and "snapplan-drill" not in plan.out  # a drill's Restore is not an unmanaged object


def test_a_failed_restore_fails_the_drill_with_junit_and_keeps_the_last_success(live, s3, tmp_path, capsys,
                                                                                 monkeypatch):
    cluster, kubeconfig, policy = live
    _app_backup(cluster, "shop-only-20261125060000")
    assert drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "aaaa1").code == 0
    _app_backup(cluster, "shop-only-20261125070000")
    s3.client().delete_object(Bucket="backups", Key="backups/shop-only-20261125070000/"
                              "shop-only-20261125070000.tar.gz")  # the backup's data is gone from the bucket
    junit = tmp_path / "drill.xml"
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "bbbb2", "--junit", str(junit))
    assert res.code == 1
    assert "FAILED" in res.out and "FAIL restore snapplan-drill-shop-bbbb2 Failed: error downloading backup" in res.out
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "1" and suite.get("failures") == "1"
    case = suite.find("testcase")
    assert case.get("classname") == "drill.shop" and "error downloading backup" in case.find("failure").get("message")
    record = cluster.store.get(CONFIGMAPS, "velero", "snapplan-drill-app-shop")
    assert json.loads(record["data"]["last-run"])["passed"] is False
    assert json.loads(record["data"]["last-success"])["backup"] == "shop-only-20261125060000"


def test_expectations_declared_in_the_policy_are_checked(live, tmp_path, s3, capsys, monkeypatch):
    cluster, kubeconfig, _ = live
    policy = _policy(tmp_path, s3, "    drill:\n      expect:\n        - {kind: ConfigMap, min: 2}\n"
                                   "        - {kind: Nonsense}\n")
    _app_backup(cluster, "shop-only-20261125070000")
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--json", "--id", "e1e1e")
    assert res.code == 1
    checks = {c["name"]: c for c in json.loads(res.out)["drills"][0]["checks"]}
    assert checks["expect ConfigMap"]["ok"] is False
    assert checks["expect ConfigMap"]["message"] == ("ConfigMap: 0 found in the scratch namespaces "
                                                     "(want at least 2)")
    assert "serves no namespaced kind 'Nonsense'" in checks["expect Nonsense"]["message"]


def test_a_drill_never_writes_into_a_namespace_that_exists(live, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    _app_backup(cluster, "shop-only-20261125070000")
    cluster.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop-drill-c0ffe"}})
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "c0ffe")
    assert res.code == 1 and "scratch namespace(s) shop-drill-c0ffe already exist" in res.err
    assert not [r for r in cluster.store.list(RESTORES)[0] if r["metadata"]["name"].startswith("snapplan-drill")]


def test_no_completed_backup_is_a_clear_error(live, capsys, monkeypatch):
    _, kubeconfig, policy = live
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--schedule", "shop-only")
    assert res.code == 1
    assert "schedule shop-only has no Completed backup to drill; take one with: snapplan backup create" in res.err
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "nope")
    assert res.code == 1 and "no app 'nope' in the policy (apps: shop)" in res.err


def test_a_drill_that_cannot_record_its_result_still_reports_it(live, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    _app_backup(cluster, "shop-only-20261125070000")
    cluster.faults.add(verb="create", resource="configmaps", status=500)  # the record cannot be written
    res = drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "r3c0d")
    assert res.code == 0, res.err
    assert "PASSED" in res.out
    assert "Warning: could not record drill r3c0d in the cluster" in res.err
