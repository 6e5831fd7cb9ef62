"""Apply as a session: the Lease lock, saved plans and their staleness checks, --state files."""
from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from engine.apply.lock import LEASE_NAME, micro_time
from tests.cluster.apiserver.cluster import Cluster
from tests.conformance.fixtures import WORLDS
from tests.helpers import EXAMPLES, HARNESS_ENV, run_cli, seed_backup

HARNESS = str(EXAMPLES / "harness" / "policy.yaml")
LEASES = ("coordination.k8s.io", "v1", "leases")
BSL = ("velero.io", "v1", "backupstoragelocations")
SCHEDULES = ("velero.io", "v1", "schedules")


@pytest.fixture
def sim_live(tmp_path):
    """The test API server; for tests that count requests or inject faults."""
    with Cluster() as cluster:
        # the harness restores the newest Completed backup of nightly-full: give it one
        seed_backup(cluster.store, "nightly-full-20261124230000", "nightly-full")
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture(params=WORLDS)
def live(request, tmp_path):
    """The test API server, or (make conformance) real kube-apiserver with real Velero beside it."""
    if request.param == "simulator":
        yield request.getfixturevalue("sim_live")
        return
    real = request.getfixturevalue("real")
    seed_backup(real.store, "nightly-full-20261124230000", "nightly-full")
    yield real, real.write_kubeconfig(tmp_path / "kubeconfig")


def cli(capsys, monkeypatch, *args, env=HARNESS_ENV):
    return run_cli(list(args), capsys, monkeypatch, env=env)


def apply_args(kubeconfig, *extra):
    # No Velero controller runs in these clusters: do not wait for validation.
    return ("apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", HARNESS, "--kubeconfig", str(kubeconfig), *extra)


def hold_lock(cluster, holder="alice@laptop pid 4242", age=0, duration=60):
    now = datetime.now(timezone.utc) - timedelta(seconds=age)
    cluster.store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                 "acquireTime": micro_time(now), "renewTime": micro_time(now)}})


def lease(cluster):
    from tests.cluster.apiserver.errors import ApiError

    try:
        return cluster.store.get(LEASES, "velero", LEASE_NAME)
    except ApiError:
        return None


# --- the lock -------------------------------------------------------------------------------------------

def test_apply_takes_and_releases_the_lock(sim_live, capsys, monkeypatch):
    cluster, kubeconfig = sim_live
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig))
    assert res.code == 0, res.err
    assert cluster.requests.snapshot().get(("create", "leases")) == 1
    assert lease(cluster) is None  # released (deleted) at the end


def test_a_held_lock_refuses_apply_naming_the_holder(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold_lock(cluster)
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig))
    assert res.code == 1
    assert "another apply holds the lock (Lease velero/snapplan-lock): alice@laptop pid 4242, since " in res.err
    assert "--lock-timeout" in res.err
    assert cluster.store.list(BSL, "velero")[0] == []  # nothing written
    assert lease(cluster)["spec"]["holderIdentity"] == "alice@laptop pid 4242"  # not touched


def test_an_expired_lock_is_taken_over(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold_lock(cluster, holder="crashed@ci pid 1", age=120, duration=60)
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig))
    assert res.code == 0, res.err
    assert "took over the expired lock of crashed@ci pid 1" in res.err
    assert lease(cluster) is None


def test_lock_timeout_waits_for_the_holder_to_expire(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold_lock(cluster, holder="bob@ci pid 7", duration=2)
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig, "--lock-timeout", "20s"))
    assert res.code == 0, res.err
    assert res.err.count("Waiting for the lock held by bob@ci pid 7") == 1  # said once, not every poll
    assert "Apply complete!" in res.out


def test_lock_is_released_when_apply_fails(sim_live, capsys, monkeypatch):
    cluster, kubeconfig = sim_live
    cluster.faults.add(verb="create", resource="schedules", status=403)
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig))
    assert res.code == 1 and "Apply failed" in res.out
    assert lease(cluster) is None


def test_forbidden_leases_name_the_fix(sim_live, capsys, monkeypatch):
    cluster, kubeconfig = sim_live
    cluster.faults.add(resource="leases", status=403)
    res = cli(capsys, monkeypatch, *apply_args(kubeconfig))
    assert res.code == 1
    assert "leases.coordination.k8s.io" in res.err and "--no-lock" in res.err
    assert "Traceback" not in res.err


def test_two_concurrent_applies_exactly_one_proceeds(sim_live, tmp_path):
    import subprocess
    import sys

    cluster, kubeconfig = sim_live
    cluster.faults.add(verb="create", resource="schedules", latency=1.0)  # keep the first apply busy
    env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "engine", *apply_args(kubeconfig)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = next(r for r in results if r[0] == 1)
    assert "another apply holds the lock" in loser[2]
    winner = next(r for r in results if r[0] == 0)
    assert "Apply complete! 8 added" in winner[1]
    assert len(cluster.store.list(SCHEDULES, "velero")[0]) == 2  # nothing duplicated or missing


def _unshare_gives_pid_1() -> bool:
    import subprocess
    import sys

    if not shutil.which("unshare"):
        return False
    try:
        probe = subprocess.run(["unshare", "-pf", "--kill-child", sys.executable, "-c", "import os; print(os.getpid())"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0 and probe.stdout.strip() == "1"


def test_concurrent_applies_with_the_same_hostname_and_pid_exactly_one_proceeds(sim_live, tmp_path):
    """Two containers on one hostname, each apply PID 1 (its own PID namespace, as `unshare -pf` makes)."""
    import subprocess
    import sys

    if not _unshare_gives_pid_1():
        pytest.skip("unshare -pf is not available here (needs root or user namespaces)")
    cluster, kubeconfig = sim_live
    cluster.faults.add(verb="create", resource="schedules", latency=1.0)  # keep the first apply busy
    env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
    cmd = ["unshare", "-pf", "--kill-child", sys.executable, "-m", "engine", *apply_args(kubeconfig)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert sorted(r[0] for r in results) == [0, 1], results
    loser = next(r for r in results if r[0] == 1)
    assert "another apply holds the lock" in loser[2] and " pid 1, since " in loser[2]
    assert "Apply complete! 8 added" in next(r for r in results if r[0] == 0)[1]
    assert len(cluster.store.list(SCHEDULES, "velero")[0]) == 2  # nothing duplicated or missing


# --- saved plans ----------------------------------------------------------------------------------------

def save_plan(capsys, monkeypatch, kubeconfig, out, env=HARNESS_ENV):
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--kubeconfig", str(kubeconfig), "--out", str(out), env=env)
    assert res.code == 0, res.err
    return res


def test_saved_plan_applies_without_asking_and_converges(live, capsys, monkeypatch, tmp_path):
    cluster, kubeconfig = live
    out = tmp_path / "plans" / "harness.plan"
    res = save_plan(capsys, monkeypatch, kubeconfig, out)
    assert f"snapplan apply {out}" in res.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    saved = json.loads(out.read_text())
    assert saved["target"]["server"] == cluster.url
    assert saved["plan"]["summary"] == {"add": 8, "change": 0, "destroy": 0}
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)  # no TTY, no --auto-approve: a saved plan needs neither
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check")
    assert res.code == 0, res.err
    assert "Apply complete! 8 added, 0 changed, 0 destroyed." in res.out
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--kubeconfig", str(kubeconfig))
    assert "No changes." in res.out


def test_saved_plan_holds_no_secret_values(live, capsys, monkeypatch, tmp_path):
    _, kubeconfig = live
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    text = out.read_text()
    aws = (EXAMPLES / "harness" / "aws-credentials").read_text()
    secrets = [line.split("=", 1)[1].strip() for line in aws.splitlines() if "=" in line]
    for value in [*secrets, *HARNESS_ENV.values()]:
        assert value not in text
    assert "sha256:" in text


def test_a_bare_out_name_goes_to_plans_dir(live, capsys, monkeypatch, tmp_path):
    _, kubeconfig = live
    monkeypatch.chdir(tmp_path)
    save_plan(capsys, monkeypatch, kubeconfig, "nightly")
    assert (tmp_path / "plans" / "nightly.plan").exists()


def test_stale_saved_plan_is_refused_and_says_what_changed(sim_live, capsys, monkeypatch, tmp_path):
    cluster, kubeconfig = sim_live
    assert cli(capsys, monkeypatch, *apply_args(kubeconfig, "--target", "bsl.primary")).code == 0
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    bsl = cluster.store.get(BSL, "velero", "primary")
    bsl["spec"]["config"]["region"] = "eu-west-1"  # someone edits it by hand
    cluster.store.replace(BSL, "velero", "primary", bsl)
    before = cluster.requests.snapshot()
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check")
    assert res.code == 1
    assert "no longer holds; nothing was applied" in res.err
    assert "bsl.primary changed since the plan (resourceVersion" in res.err
    after = cluster.requests.snapshot()
    writes = {k: after[k] - before.get(k, 0) for k in after if k[0] in ("create", "patch", "update", "delete")
              and k[1] != "leases" and after[k] != before.get(k, 0)}
    assert writes == {}


def test_saved_plan_refused_when_credentials_change(live, capsys, monkeypatch, tmp_path):
    _, kubeconfig = live
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    env = {**HARNESS_ENV, "MINIO_SECRET_KEY": "rotatedSecretValue"}
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check", env=env)
    assert res.code == 1
    assert "the credential source of secret.snapplan-minio-credentials changed since the plan" in res.err
    assert "rotatedSecretValue" not in res.err


def test_saved_plan_refused_when_policy_changes(live, capsys, monkeypatch, tmp_path):
    _, kubeconfig = live
    work = tmp_path / "policy"
    shutil.copytree(EXAMPLES / "harness", work)
    out = tmp_path / "p.plan"
    res = cli(capsys, monkeypatch, "plan", "-f", str(work / "policy.yaml"), "--kubeconfig", str(kubeconfig),
              "--out", str(out))
    assert res.code == 0, res.err
    (work / "policy.yaml").write_text((work / "policy.yaml").read_text().replace("retention: 7d", "retention: 8d"))
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check")
    assert res.code == 1 and "policy.yaml changed since the plan" in res.err


def test_saved_plan_refused_against_another_cluster(live, capsys, monkeypatch, tmp_path):
    _, kubeconfig = live
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    with Cluster() as other:
        other_kc = other.write_kubeconfig(tmp_path / "other")
        res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check", "--kubeconfig", str(other_kc))
    assert res.code == 1 and "it was made against cluster" in res.err


def test_not_a_saved_plan(capsys, monkeypatch, tmp_path):
    bogus = tmp_path / "x.plan"
    bogus.write_text("{}")
    res = cli(capsys, monkeypatch, "apply", str(bogus))
    assert res.code == 1 and "not a snapplan saved plan" in res.err


def test_apply_needs_a_plan_or_a_policy(capsys, monkeypatch):
    res = cli(capsys, monkeypatch, "apply")
    assert res.code == 1 and "give either a saved plan or -f POLICY" in res.err


# --- state files ----------------------------------------------------------------------------------------

def test_apply_to_a_state_file_rewrites_it_and_converges(capsys, monkeypatch, tmp_path):
    state = tmp_path / "cluster-state.yaml"
    shutil.copy(EXAMPLES / "harness" / "cluster-state.yaml", state)
    before = yaml.safe_load(state.read_text())
    unmanaged = [i for i in before["items"] if i["kind"] == "BackupStorageLocation"
                 and (i["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") != "snapplan"]
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", HARNESS, "--state", str(state))
    assert res.code == 0, res.err
    assert "Apply complete! 4 added, 2 changed, 0 destroyed." in res.out
    after = yaml.safe_load(state.read_text())
    for obj in unmanaged:
        assert obj in after["items"]  # untouched
    assert sum(i["kind"] == "Backup" for i in after["items"]) == sum(i["kind"] == "Backup" for i in before["items"])
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--detailed-exitcode")
    assert res.code == 0 and "No changes." in res.out, res.out
    assert not list(tmp_path.glob(".cluster-state.yaml.*"))  # no temporary file left


def test_a_state_file_that_gets_credentials_is_written_readable_by_its_owner_only(capsys, monkeypatch, tmp_path):
    import base64
    import os
    import stat

    state = tmp_path / "cluster-state.yaml"
    shutil.copy(EXAMPLES / "harness" / "cluster-state.yaml", state)
    os.chmod(state, 0o644)  # as kubectl's export (umask 022) leaves it
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", HARNESS, "--state", str(state))
    assert res.code == 0, res.err
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    secret = [i for i in yaml.safe_load(state.read_text())["items"]
              if i["metadata"]["name"] == "snapplan-minio-credentials"][0]
    assert base64.b64decode(secret["data"]["cloud"])  # kept (else plans never converge), hence the mode
    # A state file that holds no Secret data keeps its mode (the minimal policy names a secretRef).
    plain = tmp_path / "plain.yaml"
    plain.write_text("apiVersion: v1\nkind: List\nitems: []\n")
    os.chmod(plain, 0o640)
    minimal = str(EXAMPLES / "minimal" / "policy.yaml")
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", minimal, "--state", str(plain))
    assert res.code == 0, res.err
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640


def test_state_file_saved_plan_goes_stale_after_apply(capsys, monkeypatch, tmp_path):
    state = tmp_path / "s.yaml"
    shutil.copy(EXAMPLES / "harness" / "cluster-state.yaml", state)
    out = tmp_path / "p.plan"
    assert cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--out", str(out)).code == 0
    assert cli(capsys, monkeypatch, "apply", str(out)).code == 0
    res = cli(capsys, monkeypatch, "apply", str(out))
    assert res.code == 1 and "changed since the plan" in res.err


def test_saved_plan_still_holds_when_velero_only_updates_status(live, capsys, monkeypatch, tmp_path):
    # Velero revalidates every location each minute and stamps lastBackup on schedules: status writes
    # bump resourceVersion but change nothing the plan acts on, so they must not make a saved plan stale.
    cluster, kubeconfig = live
    assert cli(capsys, monkeypatch, *apply_args(kubeconfig, "--target", "bsl.primary")).code == 0
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    cluster.store.patch_status(BSL, "velero", "primary",
                               {"phase": "Available", "lastValidationTime": "2026-11-25T10:01:00Z"})
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check")
    assert res.code == 0, res.err
    assert "Apply complete!" in res.out


def test_a_json_state_file_stays_json(capsys, monkeypatch, tmp_path):
    # `kubectl get ... -o json > state.json` is a state file too; jq and kubectl must still read it after apply
    state = tmp_path / "state.json"
    state.write_text(json.dumps(yaml.safe_load((EXAMPLES / "harness" / "cluster-state.yaml").read_text()), indent=2))
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", HARNESS, "--state", str(state))
    assert res.code == 0, res.err
    after = json.loads(state.read_text())
    assert any(i["kind"] == "Schedule" for i in after["items"])


def test_saved_plan_refused_when_the_backup_a_restore_reads_is_gone(live, capsys, monkeypatch, tmp_path):
    cluster, kubeconfig = live
    out = tmp_path / "p.plan"
    save_plan(capsys, monkeypatch, kubeconfig, out)
    cluster.store.delete(("velero.io", "v1", "backups"), "velero", "nightly-full-20261124230000")
    res = cli(capsys, monkeypatch, "apply", str(out), "--no-wait", "--skip-storage-check")
    assert res.code == 1
    assert ("backup nightly-full-20261124230000, which a planned restore reads, was Completed at plan time "
            "and is now not in the cluster") in res.err, res.err


def test_a_lock_taken_over_mid_apply_stops_it_with_exit_1(sim_live):
    import subprocess
    import sys
    import time

    cluster, kubeconfig = sim_live
    cluster.faults.add(verb="create", resource="schedules", latency=1.5)
    env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "engine", *apply_args(kubeconfig, "--parallelism", "1",
                                                                         "--lock-duration", "1")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while cluster.requests.snapshot().get(("create", "schedules"), 0) == 0:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    stolen = lease(cluster)
    stolen["spec"]["holderIdentity"] = "thief@elsewhere pid 9"
    cluster.store.replace(LEASES, "velero", LEASE_NAME, stolen)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert "Apply stopped:" in out
    assert "Stopped because the lock was taken over by thief@elsewhere pid 9" in out
    assert lease(cluster)["spec"]["holderIdentity"] == "thief@elsewhere pid 9"  # not deleted: not ours any more
