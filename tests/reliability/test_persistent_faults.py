"""Faults that do not go away: a refused create (403, and a 500 that outlasts every retry), a refused update,
a refused delete, and an API server that stops answering for good halfway through an apply.

On a cluster that already holds the policy's objects, for every kind of action (create, update, delete,
replacement), apply must end with exit 1 and a summary whose counts are what happened in the cluster, and
the next plan must show exactly what is left to do. Then, the fault gone, apply converges.
"""
from __future__ import annotations

import functools
import json
import re
import shutil

import pytest

from engine.apply import executor
from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, HARNESS_ENV, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS, run_cli
from tests.reliability.support import APPLY, GVR, objects, seed_harness

PRIMARY_ON_AWS = "    type: aws\n    default: true\n    bucket: acme-velero\n    prefix: prod\n    region: us-east-1\n"
PRIMARY_ON_GCP = "    type: gcp\n    default: true\n    bucket: acme-velero\n    prefix: prod\n"
KINDS = ("Secret", "BackupStorageLocation", "VolumeSnapshotLocation", "Schedule", "Restore")


@pytest.fixture
def applied(tmp_path, capsys, monkeypatch):
    """The harness (without protect, so a location may be replaced) applied to a cluster; an editable copy."""
    backoff: list[float] = []
    monkeypatch.setattr(executor, "ApplyOptions", functools.partial(executor.ApplyOptions, sleep=backoff.append))
    shutil.copytree(EXAMPLES / "harness", tmp_path / "policy")
    policy = tmp_path / "policy" / "policy.yaml"
    edit(policy, "    protect: true               # never deleted, even with --prune\n", "")
    with Cluster() as cluster:
        seed_harness(cluster)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        res = apply(cluster, kubeconfig, policy, capsys, monkeypatch)
        assert res.code == 0 and "Apply complete! 8 added" in res.out, res.out + res.err
        yield cluster, kubeconfig, policy


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def apply(cluster, kubeconfig, policy, capsys, monkeypatch, *extra):
    return run_cli([*APPLY, str(policy), "--kubeconfig", str(kubeconfig), "--lock-duration", "1", *extra],
                   capsys, monkeypatch, env=HARNESS_ENV)


def incarnations(store) -> dict[str, str]:
    """uid -> resourceVersion of every object of the kinds apply writes."""
    return {o["metadata"]["uid"]: o["metadata"]["resourceVersion"] for k in KINDS for o in objects(store, k)}


def assert_summary_is_true(res, before: dict, after: dict) -> None:
    """The summary's counts are what happened: an object added is a new uid, destroyed a uid gone, changed
    a uid whose version moved (a replacement is one added and one destroyed)."""
    m = re.search(r"Apply failed: (\d+) added, (\d+) changed, (\d+) destroyed; (\d+) failed", res.out)
    assert res.code == 1 and m, res.out + res.err
    assert "Traceback" not in res.out + res.err
    added, changed, destroyed = (int(m.group(i)) for i in (1, 2, 3))
    assert added == len(set(after) - set(before)), (res.out, before, after)
    assert destroyed == len(set(before) - set(after)), res.out
    assert changed == sum(1 for uid in set(before) & set(after) if before[uid] != after[uid]), res.out


def next_plan(kubeconfig, policy, capsys, monkeypatch, *extra) -> dict:
    res = run_cli(["plan", "--json", "-f", str(policy), "--kubeconfig", str(kubeconfig), *extra], capsys,
                  monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    return json.loads(res.out)


def actions(plan: dict) -> dict[str, str]:
    return {c["address"]: c["action"] for c in plan["resource_changes"] if c["action"] != "no-op"}


def converges(cluster, kubeconfig, policy, capsys, monkeypatch, *extra) -> None:
    cluster.faults.clear()
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch, "--lock-timeout", "5s", *extra)
    assert res.code == 0, res.out + res.err
    assert actions(next_plan(kubeconfig, policy, capsys, monkeypatch, *extra)) == {}


def test_a_replacement_whose_create_is_refused_reports_the_location_destroyed_and_the_next_plan_recreates_it(
        applied, capsys, monkeypatch, figures):
    cluster, kubeconfig, policy = applied
    edit(policy, PRIMARY_ON_AWS, PRIMARY_ON_GCP)  # a provider change: bsl.primary must be replaced
    cluster.faults.add(verb="create", resource="backupstoragelocations", status=403,
                       message='backupstoragelocations.velero.io is forbidden: User "ci" cannot create')
    before = incarnations(cluster.store)
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch)
    assert_summary_is_true(res, before, incarnations(cluster.store))
    assert "Apply failed: 0 added, 0 changed, 1 destroyed; 1 failed, 0 not done." in res.out, res.out
    assert re.search(r"failed:  bsl\.primary: destroyed, not recreated: POST bsl\.primary refused \(403 .*\)"
                     r".*run apply again to create it", res.out), res.out
    assert "primary" not in [o["metadata"]["name"] for o in objects(cluster.store, "BackupStorageLocation")]
    plan = next_plan(kubeconfig, policy, capsys, monkeypatch)
    assert actions(plan) == {"bsl.primary": "create"}
    [change] = [c for c in plan["resource_changes"] if c["address"] == "bsl.primary"]
    assert "missing: schedule(s) harness-hourly, nightly-full use it, and their backups fail until it exists" in change["reasons"]
    converges(cluster, kubeconfig, policy, capsys, monkeypatch)
    assert cluster.store.get(GVR["BackupStorageLocation"], "velero", "primary")["spec"]["provider"] == "velero.io/gcp"
    figures("persistent faults: replacement with every create refused (403): 'destroyed, not recreated', "
            "next plan: + bsl.primary (missing: used by 2 schedules); converged once the fault went")


def test_a_create_refused_for_good_by_500s_skips_what_needs_it(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit(policy, "\nrestores:", "\n  weekly:\n    scope: full\n    storage: added\n    schedule: weekly\nrestores:")
    edit(policy, "\nschedules:", "\n  added:\n    type: hostpath\n    path: /srv/added\nschedules:")
    rule = cluster.faults.add(verb="create", resource="backupstoragelocations", status=500)
    before = incarnations(cluster.store)
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch)
    assert rule.fired == 6  # every retry refused too
    assert_summary_is_true(res, before, incarnations(cluster.store))
    assert "Apply failed: 0 added, 0 changed, 0 destroyed; 1 failed, 1 not done." in res.out, res.out
    assert "failed:  bsl.added: POST bsl.added: Internal error occurred: injected fault (500)" in res.out
    assert "skipped: schedule.weekly: skipped: bsl.added failed" in res.out, res.out
    assert actions(next_plan(kubeconfig, policy, capsys, monkeypatch)) == {"bsl.added": "create",
                                                                          "schedule.weekly": "create"}
    converges(cluster, kubeconfig, policy, capsys, monkeypatch)


def test_a_refused_update_and_a_refused_delete_are_failed_and_still_planned(applied, capsys, monkeypatch):
    cluster, kubeconfig, policy = applied
    edit(policy, "    retention: 7d\n", "    retention: 14d\n")  # schedule.harness-hourly: update
    edit(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)  # bsl.local: replacement (a delete first)
    cluster.faults.add(verb="patch", resource="schedules", status=403)
    cluster.faults.add(verb="delete", resource="backupstoragelocations", status=403)
    before = incarnations(cluster.store)
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch)
    assert_summary_is_true(res, before, incarnations(cluster.store))
    assert "Apply failed: 0 added, 0 changed, 0 destroyed; 2 failed, 0 not done." in res.out, res.out
    assert "failed:  bsl.local: DELETE bsl.local refused (403" in res.out  # not "destroyed, not recreated"
    assert "failed:  schedule.harness-hourly: PATCH schedule.harness-hourly refused (403" in res.out
    assert actions(next_plan(kubeconfig, policy, capsys, monkeypatch)) == {"bsl.local": "replace",
                                                                          "schedule.harness-hourly": "update"}
    # and a prune refused: the schedule leaves the policy, its delete is refused
    text = policy.read_text()
    policy.write_text(text[:text.index("  harness-hourly:")] + text[text.index("restores:"):])
    cluster.faults.clear()
    cluster.faults.add(verb="delete", resource="schedules", status=403)
    before = incarnations(cluster.store)
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch, "--prune", "--lock-timeout", "5s")
    assert_summary_is_true(res, before, incarnations(cluster.store))
    assert "Apply failed: 1 added, 0 changed, 1 destroyed; 1 failed, 0 not done." in res.out, res.out
    assert actions(next_plan(kubeconfig, policy, capsys, monkeypatch, "--prune")) == {
        "schedule.harness-hourly": "delete"}
    converges(cluster, kubeconfig, policy, capsys, monkeypatch, "--prune")


def test_a_server_that_stops_answering_for_good_mid_apply(applied, capsys, monkeypatch, figures):
    """After the first committed write of the plan every request is dropped: apply ends (exit 1, no traceback),
    its summary claims nothing it did not do, and once the server is back the plan shows exactly the rest."""
    cluster, kubeconfig, policy = applied
    edit(policy, "    retention: 7d\n", "    retention: 14d\n")
    edit(policy, "    retention: 30d\n", "    retention: 60d\n")
    edit(policy, HARNESS_LOCAL, HARNESS_LOCAL_ON_NFS)
    commits = []

    def on_commit(event, gvr, obj):
        if gvr[2] != "leases":
            commits.append((event, obj["metadata"]["name"]))
            cluster.faults.add(drop=True)  # and it never comes back
    unsubscribe = cluster.store.subscribe(on_commit)
    before = incarnations(cluster.store)
    res = apply(cluster, kubeconfig, policy, capsys, monkeypatch)
    unsubscribe()
    after = incarnations(cluster.store)
    assert_summary_is_true(res, before, after)
    cluster.faults.clear()
    left = actions(next_plan(kubeconfig, policy, capsys, monkeypatch))
    schedule = lambda name: cluster.store.get(GVR["Schedule"], "velero", name)["spec"]["template"]["ttl"]  # noqa: E731
    local = [o for o in objects(cluster.store, "BackupStorageLocation") if o["metadata"]["name"] == "local"]
    expected = {"bsl.local": "create" if not local else
                "replace" if local[0]["spec"]["provider"] == "replicated.com/hostpath" else None,
                "schedule.harness-hourly": "update" if schedule("harness-hourly") == "168h0m0s" else None,
                "schedule.nightly-full": "update" if schedule("nightly-full") == "720h0m0s" else None}
    assert left == {a: act for a, act in expected.items() if act}, (left, commits, res.out)
    if not local:  # the replacement's delete got through, its create did not
        assert "failed:  bsl.local: destroyed, not recreated: " in res.out, res.out
    assert 1 <= len(commits) and len(left) >= 1
    converges(cluster, kubeconfig, policy, capsys, monkeypatch)
    figures(f"persistent faults: server gone after the first write ({commits[0][0]} {commits[0][1]}): exit "
            f"{res.code}, summary true, next plan {sorted(left.items())}; converged once it was back")
