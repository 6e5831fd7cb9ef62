"""Diff edge cases: only what snapplan sets is compared; removals, replacements, conflicts, prune, restores."""
from __future__ import annotations

import base64
import copy
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
apps:
  shop: {namespaces: [shop]}
storage:
  main: {type: aws, default: true, bucket: bucket-a, prefix: prod, region: eu-west-1, credentials: {file: ./creds}}
schedules:
  nightly: {scope: full, schedule: daily}
restores:
  once: {from: {schedule: nightly}, scope: application, app: shop}
"""


@pytest.fixture
def setup(tmp_path):
    write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAX\naws_secret_access_key=topsecret\n")

    def make(policy_text=POLICY, live=(), prune=False, targets=()):
        policy, _ = load_policy(write(tmp_path / "p.yaml", policy_text), strict_sources=True, env={})
        desired = build_desired(policy, {})
        state = LiveState("test-state")
        for obj in live:
            state.add(copy.deepcopy(obj), "velero")
        return make_plan(desired, state, PlanOptions(now=NOW, prune=prune, targets=targets))

    def applied(policy_text=POLICY):
        policy, _ = load_policy(write(tmp_path / "p.yaml", policy_text), strict_sources=True, env={})
        out = {}
        for i, d in enumerate(build_desired(policy, {}).objects.values()):
            obj = to_manifest(d)
            obj["metadata"]["resourceVersion"] = str(10 + i)
            out[str(d.address)] = obj
        return out

    return make, applied


def by_addr(plan):
    return {str(c.address): c for c in plan.changes}


def test_applied_state_is_no_changes_even_with_server_and_velero_fields(setup):
    make, applied = setup
    live = applied()
    live["bsl.main"]["spec"]["backupSyncPeriod"] = "1m0s"  # defaulted by someone else: not drift
    live["bsl.main"]["status"] = {"phase": "Available"}
    live["schedule.nightly"]["spec"]["skipImmediately"] = False  # Velero rewrites it
    live["schedule.nightly"]["metadata"]["labels"]["extra"] = "someone-else"
    live["restore.once"]["spec"]["backupName"] = "nightly-20261124000000"  # Velero fills it in
    live["restore.once"]["status"] = {"phase": "Completed"}
    plan = make(live=live.values())
    assert not plan.has_changes
    assert by_addr(plan)["restore.once"].reasons == ("already ran: phase Completed",)


def backup(name: str, location: str, phase: str, label: bool = True) -> dict:
    labels = {"velero.io/storage-location": location} if label else {}
    return {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": name, "labels": labels},
            "spec": {"storageLocation": location}, "status": {"phase": phase}}


def test_field_removed_from_policy_shows_as_removal(setup):
    make, applied = setup
    with_prefix = applied()
    plan = make(POLICY.replace(" prefix: prod,", ""), live=with_prefix.values())
    change = by_addr(plan)["bsl.main"]
    assert change.action.json_name == "update"  # Velero handles a moved location in place
    assert [(f.path, f.before, f.after) for f in change.fields] == [(("spec", "objectStorage", "prefix"), "prod", None)]


def test_a_moved_location_is_updated_in_place_and_warns_of_the_backups_veleros_sync_deletes(setup):
    make, applied = setup
    live = list(applied().values()) + [
        backup("a", "main", "Completed"), backup("b", "main", "PartiallyFailed"),
        backup("c", "main", "Failed"), backup("d", "main", "InProgress"),  # the sync keeps these
        backup("e", "other", "Completed"),  # another location's
        backup("f", "main", "Completed", label=False)]  # deleteOrphanedBackups selects by the label
    plan = make(POLICY.replace("bucket: bucket-a", "bucket: bucket-b"), live=live)
    change = by_addr(plan)["bsl.main"]
    assert change.action.json_name == "update"
    assert plan.summary == {"add": 0, "change": 1, "destroy": 0}
    [warning] = [w for w in plan.warnings if w.startswith("bsl.main")]
    assert "bsl.main moves (spec.objectStorage.bucket 'bucket-a' -> 'bucket-b'), updated in place" in warning
    assert "invalidateBackupReposForBSL" in warning
    assert "delete the 2 Backup object(s) of this location" in warning and "deleteOrphanedBackups" in warning
    assert "data stays in the old place" in warning


def test_only_a_provider_change_replaces_a_location(setup):
    make, applied = setup
    live = applied()
    live["bsl.main"]["spec"]["provider"] = "velero.io/gcp"
    plan = make(live=list(live.values()) + [backup("a", "main", "Completed")])
    change = by_addr(plan)["bsl.main"]
    assert change.action.json_name == "replace"
    [warning] = [w for w in plan.warnings if w.startswith("bsl.main")]
    assert "bsl.main must be replaced (spec.provider 'velero.io/gcp' -> 'aws')" in warning
    assert "the location stays deleted until apply runs again" in warning
    assert "delete the 1 Backup object(s)" in warning


def test_removal_without_last_applied_is_not_guessed(setup):
    make, applied = setup
    live = applied()
    live["bsl.main"]["spec"]["config"]["serverSideEncryption"] = "AES256"  # set by hand, never by snapplan
    assert not make(live=live.values()).has_changes


def test_update_shows_old_and_new(setup):
    make, applied = setup
    plan = make(POLICY.replace("region: eu-west-1", "region: eu-central-1"), live=applied().values())
    change = by_addr(plan)["bsl.main"]
    assert change.action.json_name == "update"
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        (("spec", "config", "region"), "eu-west-1", "eu-central-1")]


def test_secret_changes_are_sensitive(setup, tmp_path):
    make, applied = setup
    live = applied()
    write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAY\naws_secret_access_key=rotated\n")
    plan = make(live=live.values())
    change = by_addr(plan)["secret.snapplan-main-credentials"]
    assert [(f.path, f.before, f.after, f.sensitive) for f in change.fields] == [
        (("data", "cloud"), "(sensitive)", "(sensitive)", True)]
    assert "rotated" not in repr(plan) and "topsecret" not in repr(plan)
    del live["secret.snapplan-main-credentials"]["data"]
    change = by_addr(make(live=live.values()))["secret.snapplan-main-credentials"]
    assert change.fields[0].before == "(sensitive, not in state)"
    assert any("content is unknown" in r for r in change.reasons)


def test_unmanaged_objects_are_adopted_and_foreign_ones_refused(setup):
    make, applied = setup
    live = applied()
    del live["schedule.nightly"]["metadata"]["labels"]["app.kubernetes.io/managed-by"]
    change = by_addr(make(live=live.values()))["schedule.nightly"]  # tests/diff/test_adopt.py has the rest
    assert change.action.name == "UPDATE" and change.reasons == ("adopt: not managed by snapplan yet",)
    live = applied()
    live["schedule.nightly"]["metadata"]["annotations"]["snapplan.io/policy"] = "other-team"
    with pytest.raises(PlanError) as exc:
        make(live=live.values())
    assert "schedule.nightly is managed by policy 'other-team', not 'p'" in str(exc.value)


def test_prune_protect_and_other_policies(setup):
    make, applied = setup
    live = applied()
    gone = copy.deepcopy(live["schedule.nightly"])
    gone["metadata"]["name"] = "weekly-old"
    foreign = copy.deepcopy(gone)
    foreign["metadata"]["name"] = "theirs"
    foreign["metadata"]["annotations"]["snapplan.io/policy"] = "other-team"
    protected = copy.deepcopy(live["bsl.main"])
    protected["metadata"]["name"] = "vault"
    protected["metadata"]["annotations"]["snapplan.io/protect"] = "true"
    objs = [*live.values(), gone, foreign, protected]
    plan = make(live=objs)
    assert dict((str(a), why) for a, why in plan.kept) == {
        "bsl.vault": "protected (protect: true): never deleted",
        "schedule.weekly-old": "would be removed with --prune"}
    assert not plan.has_changes
    plan = make(live=objs, prune=True)
    assert [str(c.address) for c in plan.changes if c.action.json_name == "delete"] == ["schedule.weekly-old"]


def test_location_still_used_by_a_remaining_schedule_is_not_deleted(setup):
    make, applied = setup
    live = applied()
    old = copy.deepcopy(live["bsl.main"])
    old["metadata"]["name"] = "old"
    user = {"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": "hand-made", "namespace": "velero"},
            "spec": {"schedule": "0 1 * * *", "template": {"storageLocation": "old"}}}
    with pytest.raises(PlanError) as exc:
        make(live=[*live.values(), old, user], prune=True)
    assert "bsl.old cannot be deleted: still used by schedule(s) hand-made" in str(exc.value)


def test_restore_runs_once(setup):
    make, applied = setup
    live = applied()
    live["restore.once"]["status"] = {"phase": "Failed"}
    with pytest.raises(PlanError) as exc:
        make(POLICY.replace("app: shop}", "app: shop, existingResources: update}"), live=live.values())
    message = str(exc.value)
    assert "restore.once already exists (phase Failed) and a restore runs once" in message
    assert "spec.existingResourcePolicy" in message and "give the entry a new name" in message


def test_retention_change_warns_about_existing_backups(setup):
    make, applied = setup
    live = list(applied().values())
    for day in range(1, 4):
        live.append({"apiVersion": "velero.io/v1", "kind": "Backup",
                     "metadata": {"name": f"nightly-2026112{day}000000", "namespace": "velero",
                                  "labels": {"velero.io/schedule-name": "nightly"}}})
    plan = make(POLICY.replace("schedule: daily}", "schedule: daily, retention: 90d}"), live=live)
    assert by_addr(plan)["schedule.nightly"].fields[0].path == ("spec", "template", "ttl")
    assert plan.warnings == ("schedule.nightly: retention changes from 720h0m0s to 2160h0m0s; "
                             "3 existing backup(s) of this schedule keep their current expiry",)
    assert not any(c.address.kind == "Backup" for c in plan.changes)


def test_first_backup_time_in_the_schedules_timezone(setup):
    make, _ = setup
    plan = make(POLICY.replace("schedule: daily}", "schedule: '30 2 * * *', timezone: Asia/Tokyo}"))
    reasons = by_addr(plan)["schedule.nightly"].reasons
    assert reasons == ("first backup: 2026-11-26 02:30 Asia/Tokyo (in 9h 30m)",)


def test_secret_data_in_state_is_base64_of_file_bytes(setup, tmp_path):
    make, applied = setup
    live = applied()
    assert base64.b64decode(live["secret.snapplan-main-credentials"]["data"]["cloud"]) == \
        (tmp_path / "creds").read_bytes()
