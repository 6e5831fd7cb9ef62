"""`snapplan apply` against the test cluster over HTTPS: converge, conflicts, faults, failures, refusals."""
from __future__ import annotations

import json
import threading

import pytest

from engine.addr import Address
from engine.apply.executor import ApplyOptions, Executor
from engine.apply.retry import no_sleep
from engine.apply.walk import Status
from engine.apply.writer import KubeWriter
from engine.planner import plan_from_files
from engine.state.kube import KubeTarget, api_client
from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, HARNESS_ENV, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS, run_cli, seed_backup, write

HARNESS = str(EXAMPLES / "harness" / "policy.yaml")
BSL = ("velero.io", "v1", "backupstoragelocations")


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def on_start(self, address, action):
        with self.lock:
            self.events.append(("start", str(address)))

    def on_retry(self, address, attempt, error, sleep):
        with self.lock:
            self.events.append(("retry", str(address)))

    def on_done(self, address, outcome):
        with self.lock:
            self.events.append((outcome.status.value, str(address)))


@pytest.fixture
def live(tmp_path):
    with Cluster() as cluster:
        # the harness restores the newest Completed backup of nightly-full: give it one
        seed_backup(cluster.store, "nightly-full-20261124230000", "nightly-full")
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def apply_cli(kubeconfig, capsys, monkeypatch, *extra, policy=HARNESS):
    # No Velero controller runs in these clusters: nothing would validate a location, so do not wait.
    return run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", policy, "--kubeconfig", str(kubeconfig), *extra],
                   capsys, monkeypatch, env=HARNESS_ENV)


def plan_json(kubeconfig, capsys, monkeypatch, policy=HARNESS):
    res = run_cli(["plan", "--json", "-f", policy, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch,
                  env=HARNESS_ENV)
    assert res.code == 0, res.err
    return json.loads(res.out)


def execute(kubeconfig, policy=HARNESS, parallelism=8):
    kube = KubeTarget(str(kubeconfig))
    result = plan_from_files(policy, None, kube=kube, env=HARNESS_ENV)
    recorder = Recorder()
    with api_client(kube) as api:
        out = Executor(result.plan, result.desired, KubeWriter(api), recorder,
                       ApplyOptions(parallelism=parallelism, retry=no_sleep(), sleep=lambda s: None, wait=False)).run()
    return out, recorder


def test_plan_apply_plan_converges(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    res = apply_cli(kubeconfig, capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "Apply complete! 8 added, 0 changed, 0 destroyed." in res.out
    assert "bsl.primary: Creation complete" in res.err
    assert plan_json(kubeconfig, capsys, monkeypatch)["has_changes"] is False
    bsl = cluster.store.get(BSL, "velero", "primary")
    assert bsl["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "snapplan"
    assert "snapplan.io/last-applied" in bsl["metadata"]["annotations"]
    res = apply_cli(kubeconfig, capsys, monkeypatch)
    assert res.code == 0 and "No changes." in res.out and "Apply complete" not in res.out


def test_update_and_field_removal_converge(live, tmp_path, capsys, monkeypatch):
    _, kubeconfig = live
    policy = write(tmp_path / "p" / "policy.yaml", (EXAMPLES / "harness" / "policy.yaml").read_text()
                   .replace("region: us-east-1", "region: eu-west-1").replace("    prefix: prod\n", ""))
    for name in ("aws-credentials", "minio-ca.pem"):
        write(tmp_path / "p" / name, (EXAMPLES / "harness" / name).read_text())
    assert apply_cli(kubeconfig, capsys, monkeypatch, policy=str(policy)).code == 0
    policy.write_text(policy.read_text().replace("retention: 7d", "retention: 14d").replace(
        "    volumes: default\n", ""))
    doc = plan_json(kubeconfig, capsys, monkeypatch, policy=str(policy))
    assert doc["summary"] == {"add": 0, "change": 1, "destroy": 0}
    res = apply_cli(kubeconfig, capsys, monkeypatch, policy=str(policy))
    assert "Apply complete! 0 added, 1 changed, 0 destroyed." in res.out, res.out + res.err
    assert plan_json(kubeconfig, capsys, monkeypatch, policy=str(policy))["has_changes"] is False


def test_transient_faults_are_retried_and_apply_converges(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    rules = [cluster.faults.add(verb="create", resource="secrets", status=429, retry_after=0, times=2),
             cluster.faults.add(verb="create", resource="backupstoragelocations", status=500, times=2),
             cluster.faults.add(verb="create", resource="schedules", drop=True, times=1),
             cluster.faults.add(verb="create", resource="restores", status=503, times=1)]
    out, rec = execute(kubeconfig)
    assert out.ok, out.outcomes
    assert [r.fired for r in rules] == [2, 2, 1, 1]
    assert sum(1 for e in rec.events if e[0] == "retry") == 6
    again, _ = execute(kubeconfig)
    assert again.outcomes == {}  # nothing left to do: converged, no duplicates


def test_a_failed_action_skips_its_dependents_and_a_rerun_converges(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    cluster.faults.add(verb="create", resource="secrets", status=500, times=100)
    out, rec = execute(kubeconfig)
    status = {str(a): o.status for a, o in out.outcomes.items()}
    assert status["secret.snapplan-primary-credentials"] is Status.FAILED
    assert status["bsl.primary"] is Status.SKIPPED
    assert status["schedule.nightly-full"] is Status.SKIPPED
    assert status["bsl.local"] is Status.DONE  # an independent branch goes on
    cluster.faults.clear()
    res = apply_cli(kubeconfig, capsys, monkeypatch)
    assert res.code == 0 and "Apply complete! 7 added" in res.out, res.out


def test_failure_summary_and_exit_code(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    cluster.faults.add(verb="create", resource="schedules", status=500, times=1000)
    res = apply_cli(kubeconfig, capsys, monkeypatch, "--parallelism", "2")
    assert res.code == 1
    # the restore was resolved to a named backup at plan time: it does not need the schedule
    assert "Apply failed: 6 added, 0 changed, 0 destroyed; 2 failed, 0 not done." in res.out, res.out
    assert "failed:  schedule.nightly-full: POST schedule.nightly-full: Internal error occurred" in res.out


def test_conflict_is_re_read_and_safe_changes_go_on(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    assert apply_cli(kubeconfig, capsys, monkeypatch).code == 0
    bsl = cluster.store.get(BSL, "velero", "local")
    bsl["spec"]["backupSyncPeriod"] = "2m0s"  # someone else touches a field snapplan does not own
    kube = KubeTarget(str(kubeconfig))
    policy = HARNESS
    result = plan_from_files(policy, None, kube=kube, env=HARNESS_ENV)
    assert not result.plan.has_changes
    # Now plan a real change, then let someone else write between plan and apply.
    import engine.planner as planner
    changed = result.desired.objects[Address("BackupStorageLocation", "velero", "local")]
    changed.obj["spec"]["config"]["path"] = "/srv/snapshots"
    from engine.plan.build import PlanOptions, make_plan
    from engine.state.kube import read_cluster
    with api_client(kube) as api:
        plan = make_plan(result.desired, read_cluster(api, "velero"), PlanOptions(now=planner.parse_now(None)))
        cluster.store.replace(BSL, "velero", "local", bsl)  # bumps resourceVersion: the plan is now stale
        out = Executor(plan, result.desired, KubeWriter(api), Recorder(),
                       ApplyOptions(retry=no_sleep(), sleep=lambda s: None, wait=False)).run()
    assert out.ok, out.outcomes
    assert "re-read after a concurrent change" in out.outcomes[Address("BackupStorageLocation", "velero", "local")].message
    final = cluster.store.get(BSL, "velero", "local")
    assert final["spec"]["config"]["path"] == "/srv/snapshots" and final["spec"]["backupSyncPeriod"] == "2m0s"
    # A concurrent change to the same field is not overwritten.
    changed.obj["spec"]["config"]["path"] = "/srv/other"
    with api_client(kube) as api:
        plan = make_plan(result.desired, read_cluster(api, "velero"), PlanOptions(now=planner.parse_now(None)))
        theirs = cluster.store.get(BSL, "velero", "local")
        theirs["spec"]["config"]["path"] = "/mnt/theirs"
        cluster.store.replace(BSL, "velero", "local", theirs)
        out = Executor(plan, result.desired, KubeWriter(api), Recorder(),
                       ApplyOptions(retry=no_sleep(), sleep=lambda s: None, wait=False)).run()
    outcome = out.outcomes[Address("BackupStorageLocation", "velero", "local")]
    assert outcome.status is Status.FAILED
    assert "spec.config.path is now '/mnt/theirs' (planned from '/srv/snapshots'); not overwritten" in outcome.message
    assert cluster.store.get(BSL, "velero", "local")["spec"]["config"]["path"] == "/mnt/theirs"


def test_apply_without_a_terminal_refuses_unless_auto_approved(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    res = run_cli(["apply", "-f", HARNESS, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1
    assert "refusing to apply: there is no terminal to ask for confirmation" in res.err
    assert cluster.store.list(BSL, "velero")[0] == []


def test_unmanaged_objects_are_untouched(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    mine = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": "hand-made", "namespace": "velero"},
            "spec": {"provider": "aws", "objectStorage": {"bucket": "theirs"}}}
    cluster.store.create(BSL, "velero", mine)
    before = cluster.store.get(BSL, "velero", "hand-made")
    res = apply_cli(kubeconfig, capsys, monkeypatch, "--prune")
    assert res.code == 0
    assert "bsl.hand-made" in res.out.split("Not managed by snapplan")[1]
    assert cluster.store.get(BSL, "velero", "hand-made") == before


def test_a_replace_whose_create_is_retried_does_not_fail_on_its_own_delete(live, tmp_path, capsys, monkeypatch):
    # A transient error on the create half of a replace retries the action; the delete half already
    # happened, so the retry must not stop at "DELETE ... 404 NotFound" and leave the location gone.
    cluster, kubeconfig = live
    assert apply_cli(kubeconfig, capsys, monkeypatch).code == 0
    text = (EXAMPLES / "harness" / "policy.yaml").read_text()
    assert HARNESS_LOCAL in text
    policy = write(tmp_path / "p" / "policy.yaml", text.replace(HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS))
    for name in ("aws-credentials", "minio-ca.pem"):
        write(tmp_path / "p" / name, (EXAMPLES / "harness" / name).read_text())
    rule = cluster.faults.add(verb="create", resource="backupstoragelocations", status=500, times=1)
    out, _ = execute(kubeconfig, policy=str(policy))
    assert rule.fired == 1
    assert out.ok, out.outcomes
    bsl = cluster.store.get(BSL, "velero", "local")
    assert bsl["spec"]["provider"] == "replicated.com/nfs"
