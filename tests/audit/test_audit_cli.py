"""`snapplan audit` as a user runs it: golden output of the harness example, coverage and storage on a
hand-made cluster state, `--fail-on` exit codes, and the JSON schema."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

import pytest
from jsonschema import Draft202012Validator

from engine.spec.schema import load_schema
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, applied_state, dump_state, run_cli, write

HARNESS = ["-f", str(EXAMPLES / "harness" / "policy.yaml"), "--state",
           str(EXAMPLES / "harness" / "cluster-state.yaml"), "--now", NOW]
AT = datetime.fromisoformat(NOW.replace("Z", "+00:00"))

POLICY = """\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: audit-test}
apps:
  shop: {namespaces: [shop, shop-db]}
  reports: {namespaces: [reports]}
storage:
  primary:
    type: aws
    default: true
    bucket: backups
    region: eu-west-1
    credentials: {secretRef: {name: cloud-credentials, key: cloud}}
  second-site:
    type: aws
    bucket: backups-dr
    region: eu-central-1
    credentials: {secretRef: {name: cloud-credentials, key: cloud}}
schedules:
  shop-hourly: {scope: application, app: shop, schedule: hourly, retention: 2d, storage: second-site}
  nightly: {scope: full, schedule: daily, exclude: [analytics, team-a], retention: 30d}
"""
UNAVAILABLE = ('BackupStorageLocation "second-site" is unavailable: rpc error: code = Unknown desc = operation '
               'error S3: ListObjectsV2, https response error StatusCode: 404, api error NoSuchBucket: The '
               'specified bucket does not exist')


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def backup(schedule: str, started: datetime, ttl_hours: int) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": f"{schedule}-{started:%Y%m%d%H%M%S}", "namespace": "velero",
                         "labels": {"velero.io/schedule-name": schedule}},
            "spec": {"ttl": f"{ttl_hours}h0m0s"},
            "status": {"phase": "Completed", "startTimestamp": stamp(started),
                       "expiration": stamp(started + timedelta(hours=ttl_hours))}}


def cluster_state(policy_path) -> dict:
    """What the policy's apply leaves, as Velero has been running it, plus objects nobody manages."""
    doc = applied_state(policy_path)
    created = stamp(AT - timedelta(days=40))
    for obj in doc["items"]:
        obj["metadata"]["creationTimestamp"] = created
        if obj["kind"] == "BackupStorageLocation":
            obj["status"] = {"phase": "Available", "lastValidationTime": stamp(AT - timedelta(seconds=40))}
        if obj["metadata"]["name"] == "second-site":
            obj["status"] = {"phase": "Unavailable", "lastValidationTime": stamp(AT - timedelta(seconds=30)),
                             "message": UNAVAILABLE}
        if obj["kind"] == "Schedule":
            obj["status"] = {"phase": "Enabled"}
    namespaces = ["default", "kube-system", "kube-public", "kube-node-lease", "velero", "shop", "shop-db",
                  "analytics", "team-a"]
    doc["items"] += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in namespaces]
    doc["items"] += [
        {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
         "metadata": {"name": "old", "namespace": "velero", "creationTimestamp": created},
         "spec": {"provider": "aws", "objectStorage": {"bucket": "old"}}},  # never validated: no status
        {"apiVersion": "velero.io/v1", "kind": "Schedule",
         "metadata": {"name": "analytics-weekly", "namespace": "velero", "creationTimestamp": created},
         "spec": {"schedule": "0 3 * * 0", "paused": True, "template": {"includedNamespaces": ["analytics"]}}},
        {"apiVersion": "velero.io/v1", "kind": "Schedule",
         "metadata": {"name": "teams", "namespace": "velero", "creationTimestamp": created},
         "spec": {"schedule": "0 4 * * *", "template": {"includedNamespaces": ["team-*"], "ttl": "72h0m0s"}},
         "status": {"phase": "Enabled"}},
    ]
    hourly = [backup("shop-hourly", AT.replace(minute=0) - timedelta(hours=h), 48) for h in range(48)]
    nightly = [backup("nightly", AT.replace(hour=0, minute=0) - timedelta(days=d), 720) for d in range(2, 30)]
    teams = [backup("teams", AT.replace(hour=4, minute=0) - timedelta(days=d), 72) for d in range(3)]
    doc["items"] += hourly + nightly + teams
    return doc


@pytest.fixture
def handmade(tmp_path):
    policy = write(tmp_path / "policy.yaml", POLICY)
    return policy, cluster_state(policy), tmp_path


def audit(policy, state_doc, tmp_path, capsys, monkeypatch, *extra):
    state = dump_state(tmp_path / "state.yaml", state_doc)
    return run_cli(["audit", "-f", str(policy), "--state", str(state), "--now", NOW, *extra], capsys, monkeypatch)


def valid(doc: dict) -> dict:
    Draft202012Validator(load_schema("audit.schema.json")).validate(doc)
    return doc


def test_handmade_cluster_figures(handmade, capsys, monkeypatch):
    policy, state, tmp_path = handmade
    res = audit(policy, state, tmp_path, capsys, monkeypatch, "--json")
    assert res.code == 0, res.err
    doc = valid(json.loads(res.out))
    assert doc["drift"]["has_changes"] is False
    assert doc["drift"]["unmanaged"] == ["bsl.old", "schedule.analytics-weekly", "schedule.teams"]
    by_name = {s["name"]: s for s in doc["schedules"]}
    assert {n: s["status"] for n, s in by_name.items()} == {
        "analytics-weekly": "paused", "nightly": "stale", "shop-hourly": "fresh", "teams": "fresh"}
    nightly = by_name["nightly"]
    assert nightly["rpo"]["seconds"] == 24 * 3600 and nightly["restore_points"] == {"low": 30, "high": 30}
    assert nightly["last_completed"]["age"]["text"] == "56h"  # 2 days + 8 hours: older than 24h + 1h grace
    shop = by_name["shop-hourly"]
    assert shop["restore_points"] == {"low": 48, "high": 48} and shop["last_completed"]["age"]["seconds"] == 0
    assert len(shop["expiring_within_24h"]) == 24  # 48 hourly backups kept 48h: half go within a day
    cover = doc["coverage"]
    protected = {n["name"]: n["protected_by"] for n in cover["namespaces"]}
    assert protected["shop"] == ["nightly", "shop-hourly"]
    assert protected["team-a"] == ["teams"]  # includedNamespaces glob team-*
    assert protected["analytics"] == []  # excluded by nightly; its own schedule is paused
    assert cover["unprotected"] == ["analytics"]
    assert {a["name"]: a["missing"] for a in cover["apps"]} == {"reports": ["reports"], "shop": []}
    storage = {s["name"]: s for s in doc["storage"]}
    assert (storage["primary"]["phase"], storage["primary"]["unavailable"]) == ("Available", False)
    assert storage["second-site"]["phase"] == "Unavailable" and storage["second-site"]["message"] == UNAVAILABLE
    assert storage["second-site"]["used_by"] == ["shop-hourly"]
    assert (storage["old"]["phase"], storage["old"]["unavailable"]) == (None, True)
    holds = {c["name"]: c["holds"] for c in doc["conditions"]}
    assert holds == {"drift": False, "stale": True, "uncovered": True, "unavailable": True, "untested": False}


def test_text_sections(handmade, capsys, monkeypatch):
    policy, state, tmp_path = handmade
    out = audit(policy, state, tmp_path, capsys, monkeypatch).out
    assert "  No changes: the cluster matches the policy." in out
    assert "  nightly           stale   24h        30      56h ago         in 16h" in out
    assert "  shop-hourly       fresh   1h         48      0s ago          in 1h" in out
    assert "    expiring within 24h: 24 backups, first shop-hourly-20261123090000 (in 1h)" in out
    # no storageLocation: Velero sends its backups to the location marked default (backup_controller.go)
    assert "    0 4 * * *, retention 72h (3d), to bsl.primary, phase Enabled\n" in out
    assert "  analytics        NONE\n" in out and "  Unprotected: analytics" in out
    assert "  app reports: namespace(s) missing from the cluster: reports" in out
    assert "  second-site  Unavailable    30s ago    yes      shop-hourly\n" in out
    assert "  old          not validated  never      no\n" in out
    assert f"second-site: {UNAVAILABLE}" in " ".join(out.split())  # Velero's message, wrapped
    assert all(len(line) <= 80 for line in out.splitlines()[1:])  # the first names the state file


@pytest.mark.parametrize("fail_on, code, failed", [
    ([], 0, None),
    (["--fail-on", "drift"], 0, None),
    (["--fail-on", "stale"], 3, "stale"),
    (["--fail-on", "drift,uncovered", "--fail-on", "unavailable"], 3, "uncovered, unavailable"),
    (["--fail-on", "drift,stale,uncovered,unavailable"], 3, "stale, uncovered, unavailable"),
])
def test_fail_on_exit_codes(handmade, capsys, monkeypatch, fail_on, code, failed):
    policy, state, tmp_path = handmade
    res = audit(policy, state, tmp_path, capsys, monkeypatch, *fail_on)
    assert res.code == code, res.err
    if failed:
        assert f"Audit failed: {failed} (--fail-on); exit 3" in res.err
    else:
        assert "Audit failed" not in res.err


def test_each_condition_clears_when_its_cause_is_fixed(handmade, capsys, monkeypatch):
    policy, state, tmp_path = handmade
    healthy = copy.deepcopy(state)
    healthy["items"] = [o for o in healthy["items"] if o["metadata"]["name"] not in ("old", "analytics")]
    for obj in healthy["items"]:
        if obj["metadata"]["name"] == "second-site":
            obj["status"] = {"phase": "Available", "lastValidationTime": stamp(AT)}
    healthy["items"].append(backup("nightly", AT.replace(hour=0, minute=0), 720))
    res = audit(policy, healthy, tmp_path, capsys, monkeypatch, "--fail-on", "drift,stale,uncovered,unavailable")
    assert res.code == 0, res.out + res.err
    # Drift: someone shortened the nightly retention by hand.
    for obj in healthy["items"]:
        if obj["kind"] == "Schedule" and obj["metadata"]["name"] == "nightly":
            obj["spec"]["template"]["ttl"] = "168h0m0s"
    res = audit(policy, healthy, tmp_path, capsys, monkeypatch, "--fail-on", "drift,stale", "--json")
    assert res.code == 3 and "Audit failed: drift (--fail-on)" in res.err
    doc = valid(json.loads(res.out))
    assert doc["drift"]["changes"] == [{"address": "schedule.nightly", "action": "update"}]
    assert doc["failed"] == ["drift"]


def test_a_plan_that_cannot_be_made_is_drift_not_a_crash(handmade, capsys, monkeypatch):
    policy, state, tmp_path = handmade
    for obj in state["items"]:
        if obj["metadata"]["name"] == "nightly" and obj["kind"] == "Schedule":
            obj["metadata"]["annotations"]["snapplan.io/policy"] = "someone-else"
    res = audit(policy, state, tmp_path, capsys, monkeypatch, "--fail-on", "drift", "--json")
    assert res.code == 3
    doc = valid(json.loads(res.out))
    assert "managed by policy 'someone-else'" in doc["drift"]["problems"][0]
    # the problem names where the entry is written, then the address
    assert doc["conditions"][0]["details"][0].startswith(f"the plan cannot be made: {policy}:")
    assert ": schedule.nightly is managed by policy 'someone-else'" in doc["conditions"][0]["details"][0]


def test_no_namespaces_in_the_state_means_coverage_unknown(handmade, capsys, monkeypatch):
    policy, state, tmp_path = handmade
    state["items"] = [o for o in state["items"] if o["kind"] != "Namespace"]
    res = audit(policy, state, tmp_path, capsys, monkeypatch, "--fail-on", "uncovered", "--json")
    assert res.code == 0
    doc = valid(json.loads(res.out))
    assert doc["coverage"]["known"] is False and doc["coverage"]["namespaces"] == []
    assert doc["conditions"][2]["details"] == ["unknown: the state lists no namespaces"]


@pytest.mark.parametrize("args, message", [
    (["--fail-on", "stale,late"], "--fail-on: unknown condition(s) late; use any of drift, stale, uncovered, unavailable, untested (comma-separated)"),
    (["--now", "yesterday"], "--now 'yesterday' is not an RFC 3339 time"),
])
def test_bad_options_are_one_message(handmade, capsys, monkeypatch, args, message):
    policy, state, tmp_path = handmade
    res = audit(policy, state, tmp_path, capsys, monkeypatch, *args)
    assert res.code == 1 and res.err.strip() == f"Error: {message}"


def test_errors_exit_1_not_3(tmp_path, capsys, monkeypatch):
    policy = write(tmp_path / "policy.yaml", POLICY)
    res = run_cli(["audit", "-f", str(policy), "--state", str(tmp_path / "nope.yaml"), "--fail-on", "stale"],
                  capsys, monkeypatch)
    assert res.code == 1 and "state file not found" in res.err
    bad = write(tmp_path / "bad.yaml", POLICY.replace("schedule: hourly", "schedule: fortnightly"))
    res = run_cli(["audit", "-f", str(bad), "--state", str(tmp_path / "nope.yaml")], capsys, monkeypatch)
    assert res.code == 1 and f"{bad}:20:58: schedules.shop-hourly.schedule: cron 'fortnightly'" in res.err


def _relative(text: str) -> str:
    return text.replace(str(EXAMPLES), "examples")


def test_harness_text_golden(snapshot, capsys, monkeypatch):
    res = run_cli(["audit", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    assert _relative(res.out) == snapshot


def test_harness_json_golden_and_schema(snapshot, capsys, monkeypatch):
    res = run_cli(["audit", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    doc = valid(json.loads(_relative(res.out)))
    doc.pop("snapplan_version")
    assert doc == snapshot
