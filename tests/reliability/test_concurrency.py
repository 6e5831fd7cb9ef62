"""Someone else writes an object while the plan waits at the prompt (between plan and apply, `apply -f`).

A write to a field the plan changes stops that branch with a message naming the field and both values, and
nothing is overwritten; a write to another field is kept and the planned change goes on; a planned delete or
replacement of an object changed since is not carried out. (Saved plans are refused on any change:
tests/apply/test_apply_session.py test_stale_saved_plan_is_refused_and_says_what_changed.)
"""
from __future__ import annotations

import builtins
import contextlib
import shutil

import pytest

from engine.model.manifest import LAST_APPLIED
from tests.cluster.apiserver.cluster import Cluster
from tests.conformance.fixtures import WORLDS
from tests.helpers import EXAMPLES, HARNESS_ENV, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS, run_cli
from tests.reliability.support import APPLY, GVR, HARNESS, seed_harness, writes

BSL, SCHEDULES = GVR["BackupStorageLocation"], GVR["Schedule"]


@pytest.fixture(params=WORLDS)
def applied(request, tmp_path, capsys, monkeypatch):
    """The harness applied to a fresh cluster (the test API server, or under `make conformance` real
    kube-apiserver with real Velero), and an editable copy of the policy."""
    with Cluster() if request.param == "simulator" else _nothing(request.getfixturevalue("real")) as cluster:
        seed_harness(cluster)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        res = run_cli([*APPLY, HARNESS, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch, env=HARNESS_ENV)
        assert res.code == 0, res.err
        shutil.copytree(EXAMPLES / "harness", tmp_path / "policy")
        yield cluster, kubeconfig, tmp_path / "policy" / "policy.yaml"


@contextlib.contextmanager
def _nothing(value):
    yield value


def counted(cluster) -> bool:
    """Only the test API server counts requests; on a real server the objects' final state is the evidence."""
    return isinstance(cluster, Cluster)


def edit_policy(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def apply_while(cluster, kubeconfig, policy, someone_edits, capsys, monkeypatch, *extra):
    """apply -f at a terminal; while the person reads the plan, someone else writes; then the person says yes."""
    def answer(prompt=""):
        someone_edits(cluster.store)
        return "yes"
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", answer)
    args = ["apply", "--no-wait", "--skip-storage-check", "-f", str(policy), "--kubeconfig", str(kubeconfig), *extra]
    return run_cli(args, capsys, monkeypatch, env=HARNESS_ENV)


def change(gvr, name, edit):
    def someone_edits(store):
        obj = store.get(gvr, "velero", name)
        edit(obj)
        store.replace(gvr, "velero", name, obj)
    return someone_edits


def test_a_concurrent_write_to_a_planned_field_is_not_overwritten(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit_policy(policy, "region: us-east-1", "region: eu-west-1")  # bsl.primary: spec.config.region
    record = cluster.store.get(BSL, "velero", "primary")["metadata"]["annotations"][LAST_APPLIED]
    res = apply_while(cluster, kubeconfig, policy, change(BSL, "primary", lambda o: o["spec"]["config"].update(
        region="ap-south-1")), capsys, monkeypatch)
    assert res.code == 1, res.out + res.err
    assert ("failed:  bsl.primary: bsl.primary changed since the plan: spec.config.region is now 'ap-south-1' "
            "(planned from 'us-east-1'); not overwritten. Run plan again.") in res.out
    final = cluster.store.get(BSL, "velero", "primary")
    assert final["spec"]["config"]["region"] == "ap-south-1"
    assert final["metadata"]["annotations"][LAST_APPLIED] == record  # not even snapplan's record moved
    if counted(cluster):
        assert cluster.requests.count(verb="patch", resource="backupstoragelocations") == 1  # the refused one


def test_a_concurrent_write_to_another_field_is_kept_and_the_plan_goes_on(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit_policy(policy, "region: us-east-1", "region: eu-west-1")
    res = apply_while(cluster, kubeconfig, policy, change(BSL, "primary", lambda o: o["spec"].update(
        backupSyncPeriod="2m0s")), capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "bsl.primary: Modifications complete (updated (re-read after a concurrent change))" in res.err
    final = cluster.store.get(BSL, "velero", "primary")["spec"]
    assert (final["config"]["region"], final["backupSyncPeriod"]) == ("eu-west-1", "2m0s")


def test_a_prune_of_an_object_changed_since_the_plan_is_not_carried_out(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    text = policy.read_text()
    start = text.index("  harness-hourly:")
    policy.write_text(text[:start] + text[text.index("restores:"):])  # the schedule leaves the policy
    res = apply_while(cluster, kubeconfig, policy, change(SCHEDULES, "harness-hourly", lambda o: o["spec"].update(
        schedule="30 * * * *")), capsys, monkeypatch, "--prune")
    assert res.code == 1, res.out + res.err
    assert ("failed:  schedule.harness-hourly: schedule.harness-hourly changed since the plan (its spec changed); "
            "not deleted.") in res.out
    assert cluster.store.get(SCHEDULES, "velero", "harness-hourly")["spec"]["schedule"] == "30 * * * *"


def test_a_replacement_of_a_location_changed_since_the_plan_is_not_carried_out(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit_policy(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)  # a provider change: bsl.local must be replaced
    before = cluster.requests.snapshot() if counted(cluster) else None
    res = apply_while(cluster, kubeconfig, policy, change(BSL, "local", lambda o: o["spec"].update(
        backupSyncPeriod="5m0s")), capsys, monkeypatch)
    assert res.code == 1, res.out + res.err
    assert "failed:  bsl.local: bsl.local changed since the plan (its spec changed); not replaced." in res.out
    local = cluster.store.get(BSL, "velero", "local")["spec"]
    assert (local["provider"], local["backupSyncPeriod"]) == ("replicated.com/hostpath", "5m0s")
    if counted(cluster):
        assert writes(cluster, before) == 0  # refused on the fresh read: no DELETE was sent, nothing created


def test_a_location_deleted_and_created_again_since_the_plan_is_not_deleted(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit_policy(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)

    def recreated(store):  # the same content, another incarnation (uid)
        obj = store.get(BSL, "velero", "local")
        store.delete(BSL, "velero", "local")
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            obj["metadata"].pop(key, None)
        store.create(BSL, "velero", obj)
    res = apply_while(cluster, kubeconfig, policy, recreated, capsys, monkeypatch)
    assert res.code == 1, res.out + res.err
    assert ("failed:  bsl.local: bsl.local changed since the plan (it was deleted and created again); "
            "not replaced.") in res.out
    assert cluster.store.get(BSL, "velero", "local")["spec"]["provider"] == "replicated.com/hostpath"


def velero_revalidates(name):
    """What a running Velero does to a location every minute: a status write (phase, lastValidationTime)."""
    def write_status(store):
        store.patch_status(BSL, "velero", name, {"phase": "Available",
                                                 "lastValidationTime": "2026-11-25T08:01:00Z"})
    return write_status


def test_velero_rewriting_a_locations_status_does_not_stop_its_replacement_or_prune(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit_policy(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)
    res = apply_while(cluster, kubeconfig, policy, velero_revalidates("local"), capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "Apply complete! 1 added, 0 changed, 1 destroyed." in res.out
    assert cluster.store.get(BSL, "velero", "local")["spec"]["provider"] == "replicated.com/nfs"
    # and a prune: the location leaves the policy (no schedule uses it), Velero revalidates it meanwhile
    text = policy.read_text()
    start = text.index("  local:\n")
    policy.write_text(text[:start] + text[text.index("schedules:"):])
    res = apply_while(cluster, kubeconfig, policy, velero_revalidates("local"), capsys, monkeypatch, "--prune")
    assert res.code == 0, res.out + res.err
    assert "Apply complete! 0 added, 0 changed, 1 destroyed." in res.out
    assert "local" not in [o["metadata"]["name"] for o in cluster.store.list(BSL, "velero")[0]]


def test_a_status_write_between_the_fresh_read_and_the_delete_is_read_again(applied, capsys, monkeypatch):
    """The delete carries the fresh read's uid and resourceVersion; a status write in between makes the
    server refuse it (409), and apply reads again instead of failing."""
    cluster, kubeconfig, policy = applied
    edit_policy(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)
    from engine.apply.writer import KubeWriter

    real_delete = KubeWriter.delete
    calls = []

    def status_moves_first(self, addr, *, uid, resource_version):
        calls.append(resource_version)
        if len(calls) == 1:
            velero_revalidates(addr.name)(cluster.store)
        return real_delete(self, addr, uid=uid, resource_version=resource_version)
    monkeypatch.setattr(KubeWriter, "delete", status_moves_first)
    res = apply_while(cluster, kubeconfig, policy, lambda store: None, capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert len(calls) == 2 and calls[0] != calls[1]  # refused once on the old version, then read again
    assert cluster.store.get(BSL, "velero", "local")["spec"]["provider"] == "replicated.com/nfs"
