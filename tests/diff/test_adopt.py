"""Adoption: a policy entry naming an unmanaged object updates it into management; nothing else changes."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest

from engine.errors import PlanError
from engine.model import build_desired
from engine.model.manifest import to_manifest
from engine.plan.build import PlanOptions, make_plan
from engine.spec import load_policy
from engine.state.live import LiveState
from tests.helpers import write

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
POLICY = """apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: p}
storage:
  main: {type: aws, default: true, bucket: bucket-a, region: eu-west-1, credentials: {secretRef: {name: cloud}}}
schedules:
  nightly: {scope: full, schedule: daily}
restores:
  once: {from: {schedule: nightly}, scope: full}
"""
MANAGED = "app.kubernetes.io/managed-by"
ADOPTION = [("metadata", "labels", MANAGED), ("metadata", "annotations", "snapplan.io/policy"),
            ("metadata", "annotations", "snapplan.io/last-applied")]


@pytest.fixture
def planner(tmp_path):
    policy, _ = load_policy(write(tmp_path / "p.yaml", POLICY), strict_sources=True, env={})
    desired = build_desired(policy, {})

    def unmanaged(name: str) -> dict:
        """The object as snapplan would write it, minus snapplan's label and annotations."""
        obj = next(to_manifest(d) for a, d in desired.objects.items() if a.name == name)
        obj["metadata"] = {"name": name, "namespace": "velero", "resourceVersion": "5"}
        return obj

    def plan(*live: dict, prune: bool = False):
        state = LiveState("test")
        for obj in live:
            state.add(copy.deepcopy(obj), "velero")
        return make_plan(desired, state, PlanOptions(now=NOW, prune=prune))

    return desired, unmanaged, plan


def changes(plan) -> dict:
    return {str(c.address): c for c in plan.changes}


def test_adoption_changes_only_snapplans_label_and_annotations(planner):
    desired, unmanaged, plan = planner
    bsl = unmanaged("main")
    change = changes(plan(bsl))["bsl.main"]
    assert change.action.json_name == "update"
    assert [f.path for f in change.fields] == ADOPTION
    assert change.reasons == ("adopt: not managed by snapplan yet",)
    assert change.live_version == "5"  # the write is guarded like any update
    record = json.loads(change.fields[2].after)  # what apply writes as last-applied
    assert record["spec"] == bsl["spec"] and record["metadata"]["labels"] == {MANAGED: "snapplan"}


def test_adoption_shows_real_differences_too(planner):
    _, unmanaged, plan = planner
    bsl = unmanaged("main")
    bsl["spec"]["config"]["region"] = "us-west-2"
    change = changes(plan(bsl))["bsl.main"]
    assert [(f.path, f.before, f.after) for f in change.fields[3:]] == [
        (("spec", "config", "region"), "us-west-2", "eu-west-1")]


def test_absent_fields_mean_veleros_defaults(planner):
    """Velero's Go types drop false and empty values: absent paused/default/accessMode is no drift."""
    _, unmanaged, plan = planner
    bsl, sched = unmanaged("main"), unmanaged("nightly")
    del bsl["spec"]["accessMode"], sched["spec"]["paused"], sched["spec"]["template"]["includedNamespaces"]
    got = changes(plan(bsl, sched))
    assert [f.path for f in got["bsl.main"].fields] == ADOPTION
    assert [f.path for f in got["schedule.nightly"].fields] == ADOPTION
    sched["spec"]["paused"] = True  # present and different: a real change
    del bsl["spec"]["default"]  # the policy says default: true, which absent does not mean
    got = changes(plan(bsl, sched))
    assert [f.path for f in got["schedule.nightly"].fields][3:] == [("spec", "paused")]
    assert [(f.path, f.before, f.after) for f in got["bsl.main"].fields][3:] == [(("spec", "default"), None, True)]


def test_an_earlier_owners_last_applied_record_is_ignored(planner):
    _, unmanaged, plan = planner
    sched = unmanaged("nightly")
    sched["metadata"]["annotations"] = {"snapplan.io/last-applied": json.dumps(
        {"spec": {"template": {"excludedNamespaces": ["x"]}}})}
    sched["spec"]["template"]["excludedNamespaces"] = ["x"]
    assert [f.path for f in changes(plan(sched))["schedule.nightly"].fields] == ADOPTION


def test_what_is_not_adopted(planner):
    _, unmanaged, plan = planner
    helm = unmanaged("main")
    helm["metadata"]["labels"] = {MANAGED: "Helm"}
    with pytest.raises(PlanError) as exc:
        plan(helm)
    assert "bsl.main is managed by 'Helm' (label app.kubernetes.io/managed-by): snapplan does not take over" \
        in str(exc.value)
    moved = unmanaged("main")
    moved["spec"]["objectStorage"]["bucket"] = "elsewhere"
    with pytest.raises(PlanError) as exc:
        plan(moved)
    assert "adopting it would move it (spec.objectStorage.bucket differ)" in str(exc.value)
    ran = unmanaged("once")
    with pytest.raises(PlanError) as exc:
        plan(ran)
    assert "restore.once exists in namespace velero but is not managed by snapplan, and a restore runs once" \
        in str(exc.value)


def test_a_managed_secret_a_location_names_is_never_pruned(planner):
    desired, unmanaged, plan = planner
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "cloud", "namespace": "velero", "resourceVersion": "3",
                           "labels": {MANAGED: "snapplan"}, "annotations": {"snapplan.io/policy": "p"}}}
    result = plan(secret, prune=True)
    assert "secret.cloud" not in changes(result)
    assert [(str(a), why) for a, why in result.kept] == [
        ("secret.cloud", "used by bsl.main (credentials.secretRef): never deleted while a location uses it")]
    other = copy.deepcopy(secret)
    other["metadata"]["name"] = "unused"
    assert changes(plan(secret, other, prune=True))["secret.unused"].action.json_name == "delete"


def location(name: str, credential: str | None, *, managed: bool, kind: str = "BackupStorageLocation") -> dict:
    meta = {"name": name, "namespace": "velero", "resourceVersion": "7"}
    if managed:
        meta.update(labels={MANAGED: "snapplan"}, annotations={"snapplan.io/policy": "p"})
    spec = {"provider": "aws", "objectStorage": {"bucket": "elsewhere"}} if kind == "BackupStorageLocation" \
        else {"provider": "aws", "config": {"region": "eu-west-1"}}
    if credential:
        spec["credential"] = {"name": credential, "key": "cloud"}
    return {"apiVersion": "velero.io/v1", "kind": kind, "metadata": meta, "spec": spec}


def test_prune_keeps_a_secret_that_any_location_in_the_namespace_uses_managed_or_not(planner):
    _, _, plan = planner
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "snapplan-legacy-credentials", "namespace": "velero", "resourceVersion": "3",
                           "labels": {MANAGED: "snapplan"}, "annotations": {"snapplan.io/policy": "p"}}}
    name = "snapplan-legacy-credentials"
    for user, shown in [(location("legacy", name, managed=False), "bsl.legacy (not managed by snapplan)"),
                        (location("snap", name, managed=False, kind="VolumeSnapshotLocation"),
                         "vsl.snap (not managed by snapplan)")]:
        result = plan(secret, user, prune=True)
        assert "secret.snapplan-legacy-credentials" not in changes(result)
        assert (f"secret.{name}", f"used by {shown}: never deleted while a location uses it") in \
            [(str(a), why) for a, why in result.kept]
    # a managed location that left the policy is pruned with it (the location first, then its Secret)
    result = plan(secret, location("legacy", name, managed=True), prune=True)
    deletes = {a for a, c in changes(result).items() if c.action.json_name == "delete"}
    assert deletes == {"bsl.legacy", f"secret.{name}"}
    # ...unless it is protected: then its Secret stays too
    kept = location("legacy", name, managed=True)
    kept["metadata"]["annotations"]["snapplan.io/protect"] = "true"
    assert f"secret.{name}" not in changes(plan(secret, kept, prune=True))


def test_an_unmanaged_secret_with_snapplans_credentials_name_is_not_adopted(tmp_path):
    text = POLICY.replace("credentials: {secretRef: {name: cloud}}", "credentials: {file: ./creds}")
    write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAX\naws_secret_access_key=mine\n")
    policy, _ = load_policy(write(tmp_path / "p.yaml", text), strict_sources=True, env={})
    desired = build_desired(policy, {})
    theirs = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"cloud": "dGhlaXJz"},
              "metadata": {"name": "snapplan-main-credentials", "namespace": "velero", "resourceVersion": "3"}}
    state = LiveState("test")
    state.add(copy.deepcopy(theirs), "velero")
    with pytest.raises(PlanError) as exc:
        make_plan(desired, state, PlanOptions(now=NOW))
    message = str(exc.value)
    assert "bsl.main: its credentials Secret snapplan-main-credentials already exists in namespace velero and was " \
           "not made by snapplan" in message
    assert "apply would overwrite its data" in message
    assert "kubectl -n velero delete secret snapplan-main-credentials" in message
    assert "credentials: {secretRef: {name: snapplan-main-credentials, key: cloud}}" in message
    assert "p.yaml:5:" in message  # where the storage entry is written
