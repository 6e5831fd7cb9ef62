"""plan|apply|audit --fleet against several test clusters at once, one of them down."""
from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.spec.schema import load_schema
from tests.helpers import run_cli, seed_backup, write

BSL = ("velero.io", "v1", "backupstoragelocations")
SCHEDULES = ("velero.io", "v1", "schedules")
LEASES = ("coordination.k8s.io", "v1", "leases")
POLICY = """\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata:
  name: fleet-${cluster}
storage:
  primary:
    type: aws
    default: true
    bucket: velero-${cluster}
    region: ${region}
    credentials:
      secretRef: {name: cloud-credentials, key: cloud}
schedules:
  nightly:
    scope: full
    schedule: daily
"""


@pytest.fixture
def fleet(tmp_path, cluster_factory):
    """Three clusters that answer (alpha, beta: env=prod; gamma: env=dev) and one whose API server is down."""
    clusters = {name: cluster_factory() for name in ("alpha", "beta", "gamma", "down")}
    write(tmp_path / "policy.yaml", POLICY)
    write(tmp_path / "overlays" / "prod.yaml", "schedules:\n  nightly:\n    retention: 90d\n")
    lines = ["apiVersion: snapplan/v1", "kind: Fleet", "metadata: {name: test}", "policy: policy.yaml", "clusters:"]
    for name, c in clusters.items():
        kc = c.write_kubeconfig(tmp_path / "kube" / name, context=name)
        env = "prod" if name in ("alpha", "beta") else "dev"
        lines += [f"  {name}:", f"    kubeconfig: kube/{name}", f"    context: {name}", "    region: eu-west-1",
                  f"    labels: {{env: {env}}}"]
        if env == "prod":
            lines.append("    overlays: [overlays/prod.yaml]")
        assert kc.exists()
    write(tmp_path / "fleet.yaml", "\n".join(lines) + "\n")
    clusters["down"].down_url = clusters["down"].url
    clusters["down"].stop()  # its kubeconfig stays: the API server no longer answers
    return tmp_path, clusters


def cli(tmp_path: Path, args, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return run_cli(args, capsys, monkeypatch)


def test_plan_fleet_reports_the_down_cluster_and_plans_the_rest(fleet, capsys, monkeypatch):
    root, clusters = fleet
    r = cli(root, ["plan", "--fleet", "fleet.yaml"], capsys, monkeypatch)
    assert r.code == 1, r.err  # an unreachable cluster is an error: Terraform's rules across clusters
    lines = r.out.splitlines()
    assert lines[0] == "Fleet test: plan of 4 cluster(s)"
    table = lines[2:7]
    assert table[0].split() == ["CLUSTER", "RESULT", "ADD", "CHANGE", "DESTROY", "ERRORS", "UNHEALTHY"]
    rows = {row.split()[0]: row.split() for row in table[1:]}
    assert rows["alpha"][1:] == ["changes", "2", "0", "0", "0", "0"]
    assert rows["down"][1:] == ["unreachable", "-", "-", "-", "1", "-"]
    assert "Plan: 6 to add, 0 to change, 0 to destroy across 4 cluster(s); 1 cluster(s) not ok." in r.out
    down = r.out.split("=== down (unreachable) ===\n")[1]
    assert down.startswith(f"Error: cannot reach the Kubernetes API server at {clusters['down'].down_url}")
    alpha = r.out.split("=== alpha (changes) ===\n")[1].split("===")[0]
    assert "+ Schedule velero/nightly" in alpha and 'ttl: "2160h0m0s"' in alpha or "2160h0m0s" in alpha
    gamma = r.out.split("=== gamma (changes) ===\n")[1].split("===")[0]
    assert "720h0m0s" in gamma and "velero-gamma" in gamma and "velero-alpha" not in gamma
    assert "Traceback" not in r.err
    # each cluster read once: one LIST per kind, and nothing written
    for name in ("alpha", "beta", "gamma"):
        assert clusters[name].store.list(BSL, "velero")[0] == []


def test_plan_fleet_json_follows_its_schema(fleet, capsys, monkeypatch):
    root, _ = fleet
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--json", "--parallelism", "2"], capsys, monkeypatch)
    doc = json.loads(r.out)
    Draft202012Validator(load_schema("fleet-run.schema.json")).validate(doc)
    Draft202012Validator(load_schema("plan.schema.json")).validate(doc["clusters"][0]["plan"])
    assert [c["cluster"] for c in doc["clusters"]] == ["alpha", "beta", "down", "gamma"]
    assert [c["status"] for c in doc["clusters"]] == ["ok", "ok", "unreachable", "ok"]
    assert doc["exit_code"] == r.code == 1
    assert doc["clusters"][2]["plan"] is None and "cannot reach" in doc["clusters"][2]["message"]


def test_selector_and_cluster_pick_clusters_and_detailed_exitcode(fleet, capsys, monkeypatch):
    root, _ = fleet
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--selector", "env=prod", "--detailed-exitcode", "--json"],
            capsys, monkeypatch)
    assert [c["cluster"] for c in json.loads(r.out)["clusters"]] == ["alpha", "beta"]
    assert r.code == 2  # both reachable, both with changes
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--cluster", "gamma", "--cluster", "down", "--json"],
            capsys, monkeypatch)
    assert [c["cluster"] for c in json.loads(r.out)["clusters"]] == ["down", "gamma"]
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--selector", "env=qa"], capsys, monkeypatch)
    assert r.code == 1 and r.err == "Error: fleet.yaml: no cluster matches --selector env=qa\n"


def test_apply_fleet_each_cluster_its_own_lock_and_exit_code(fleet, capsys, monkeypatch):
    root, clusters = fleet
    # someone else is applying to beta: its lock is held; alpha and gamma go on
    held = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    clusters["beta"].store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "snapplan-lock"},
        "spec": {"holderIdentity": "ops@laptop pid 7", "leaseDurationSeconds": 3600,
                 "acquireTime": held, "renewTime": held}})
    r = cli(root, ["apply", "--fleet", "fleet.yaml", "--auto-approve", "--no-wait", "--skip-storage-check",
                   "--cluster", "alpha", "--cluster", "beta", "--cluster", "gamma", "--fleet-parallelism", "3"],
            capsys, monkeypatch)
    assert r.code == 1
    rows = {row.split()[0]: row.split() for row in r.out.splitlines()[3:6]}
    assert rows["alpha"][1:] == ["applied", "2", "0", "0", "0", "0"]
    assert rows["gamma"][1:3] == ["applied", "2"]
    assert rows["beta"][1] == "error"
    assert "ops@laptop pid 7" in r.out.split("=== beta (error) ===")[1]
    assert "[alpha] bsl.primary: Creating..." in r.err
    for name in ("alpha", "gamma"):
        bsl = clusters[name].store.get(BSL, "velero", "primary")
        assert bsl["spec"]["objectStorage"]["bucket"] == f"velero-{name}"
    assert clusters["alpha"].store.get(SCHEDULES, "velero", "nightly")["spec"]["template"]["ttl"] == "2160h0m0s"
    assert clusters["gamma"].store.get(SCHEDULES, "velero", "nightly")["spec"]["template"]["ttl"] == "720h0m0s"
    assert clusters["beta"].store.list(BSL, "velero")[0] == []  # nothing written where the lock was held
    # every lock we took was released
    for name in ("alpha", "gamma"):
        assert [i["metadata"]["name"] for i in clusters[name].store.list(LEASES, "velero")[0]] == []
    # converged: a new plan has nothing to do on alpha and gamma
    again = cli(root, ["plan", "--fleet", "fleet.yaml", "--cluster", "alpha", "--cluster", "gamma", "--detailed-exitcode"],
                capsys, monkeypatch)
    assert again.code == 0, again.out


def test_apply_fleet_without_auto_approve_refuses(fleet, capsys, monkeypatch):
    root, clusters = fleet
    r = cli(root, ["apply", "--fleet", "fleet.yaml"], capsys, monkeypatch)
    assert r.code == 1 and "--auto-approve" in r.err
    assert clusters["alpha"].store.list(BSL, "velero")[0] == []


def test_saved_plans_per_cluster_apply_one_by_one(fleet, capsys, monkeypatch):
    root, clusters = fleet
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--selector", "env=prod", "--out", "nightly"], capsys, monkeypatch)
    assert r.code == 0, r.err
    for name in ("alpha", "beta"):
        assert (root / "plans" / name / "nightly.plan").stat().st_mode & 0o777 == 0o600
        assert f"Saved the plan to plans/{name}/nightly.plan" in r.out
    a = cli(root, ["apply", "plans/alpha/nightly.plan", "--no-wait", "--skip-storage-check"], capsys, monkeypatch)
    assert a.code == 0, a.err
    assert clusters["alpha"].store.get(BSL, "velero", "primary")["spec"]["objectStorage"]["bucket"] == "velero-alpha"
    assert clusters["beta"].store.list(BSL, "velero")[0] == []
    # an overlay edited since the plan: beta's saved plan no longer holds
    write(root / "overlays" / "prod.yaml", "schedules:\n  nightly:\n    retention: 30d\n")
    b = cli(root, ["apply", "plans/beta/nightly.plan", "--no-wait", "--skip-storage-check"], capsys, monkeypatch)
    assert b.code == 1 and "overlays/prod.yaml changed since the plan" in b.err
    assert clusters["beta"].store.list(BSL, "velero")[0] == []


def test_audit_fleet_exit_codes(fleet, capsys, monkeypatch):
    root, clusters = fleet
    seed_backup(clusters["alpha"].store, "nightly-20261123000000", "nightly")
    r = cli(root, ["audit", "--fleet", "fleet.yaml", "--fail-on", "drift", "--selector", "env=prod",
                   "--now", "2026-11-25T01:00:00Z"], capsys, monkeypatch)
    assert r.code == 3  # the audit ran everywhere and drift holds (nothing applied yet)
    rows = {row.split()[0]: row.split() for row in r.out.splitlines()[3:5]}
    assert rows["alpha"][1:4] == ["failed", "(drift)", "2"]
    assert "Drift" in r.out.split("=== alpha")[1]
    r = cli(root, ["audit", "--fleet", "fleet.yaml", "--fail-on", "drift", "--json", "--now", "2026-11-25T01:00:00Z"],
            capsys, monkeypatch)
    assert r.code == 1  # one cluster could not be audited: 1 wins over 3
    doc = json.loads(r.out)
    Draft202012Validator(load_schema("fleet-run.schema.json")).validate(doc)
    Draft202012Validator(load_schema("audit.schema.json")).validate(doc["clusters"][0]["audit"])
    assert {c["cluster"]: c["exit_code"] for c in doc["clusters"]} == {"alpha": 3, "beta": 3, "down": 1, "gamma": 3}


def test_bad_overlay_is_one_clusters_error(fleet, capsys, monkeypatch):
    root, _ = fleet
    write(root / "overlays" / "prod.yaml", "schedules:\n  nightly:\n    retention: 90x\n")
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--cluster", "alpha", "--cluster", "gamma"], capsys, monkeypatch)
    assert r.code == 1
    alpha = r.out.split("=== alpha (error) ===\n")[1].split("===")[0]
    assert "overlays/prod.yaml:3:16: schedules.nightly.retention: '90x' is not valid here" in alpha
    assert "=== gamma (changes) ===" in r.out


@pytest.mark.parametrize("args, message", [
    (["plan"], "Missing option '-f' / '--file'. Or give --fleet FLEET to run every cluster of a fleet."),
    (["plan", "-f", "policy.yaml", "--cluster", "alpha"], "--cluster and --selector choose clusters of a --fleet"),
    (["audit", "-f", "policy.yaml", "--fleet", "fleet.yaml"], "give -f or --fleet, not both"),
    (["plan", "--fleet", "fleet.yaml", "--context", "alpha"], "each cluster of a fleet names its own context"),
    (["plan", "--fleet", "fleet.yaml", "--state", "s.yaml"], "not a state file"),
    (["apply", "--fleet", "fleet.yaml", "-f", "policy.yaml", "--auto-approve"], "apply a saved plan of one cluster"),
    (["plan", "--fleet", "fleet.yaml", "--selector", "env"], "--selector 'env' is not key=value"),
])
def test_usage_mistakes_are_one_message(fleet, capsys, monkeypatch, args, message):
    root, clusters = fleet
    r = cli(root, args, capsys, monkeypatch)
    assert r.code == 1 and message in r.err and "Traceback" not in r.err
    assert clusters["alpha"].store.list(BSL, "velero")[0] == []


def test_audit_fleet_openmetrics_labels_each_cluster_and_marks_the_down_one(fleet, capsys, monkeypatch):
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus-client (test extra): make install")
    root, clusters = fleet
    seed_backup(clusters["alpha"].store, "nightly-20261124000000", "nightly", started="2026-11-24T00:00:05Z")
    r = cli(root, ["audit", "--fleet", "fleet.yaml", "--format", "openmetrics", "--now", "2026-11-24T06:00:00Z"],
            capsys, monkeypatch)
    assert r.code == 1  # one cluster could not be audited
    samples = {(s.name, s.labels.get("cluster"), s.labels.get("schedule")): s.value
               for f in parser.text_string_to_metric_families(r.out) for s in f.samples}
    assert samples[("snapplan_audit_up", "down", None)] == 0
    assert all(samples[("snapplan_audit_up", c, None)] == 1 for c in ("alpha", "beta", "gamma"))
    # nightly is not in the clusters yet (nothing applied): its RPO comes from the policy, its backup is alpha's
    assert samples[("snapplan_schedule_rpo_seconds", "gamma", "nightly")] == 24 * 3600
    assert samples[("snapplan_schedule_last_completed_backup_age_seconds", "alpha", "nightly")] == 6 * 3600 - 5
    assert ("snapplan_schedule_last_completed_backup_age_seconds", "beta", "nightly") not in samples
    assert r.out.endswith("# EOF\n") and "[down] Error: cannot reach" in r.err


class Terminal(io.StringIO):
    """stdin of a person at a terminal, who types `answer`."""

    def isatty(self) -> bool:
        return True


def test_apply_fleet_on_a_terminal_shows_every_plan_asks_once_and_applies_what_was_approved(
        fleet, capsys, monkeypatch):
    root, clusters = fleet
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    r = cli(root, ["apply", "--fleet", "fleet.yaml", "--no-wait", "--skip-storage-check"], capsys, monkeypatch)
    assert r.code == 1  # `down` could not be planned: Terraform's rules, the worst cluster wins
    before, after = r.out.split("Fleet test: apply of 4 cluster(s)")
    assert before.startswith("Fleet test: plan of 4 cluster(s)") and "+ Schedule velero/nightly" in before
    assert "Apply these plans to 3 cluster(s) (alpha, beta, gamma)? Only 'yes' will be accepted:" in r.out + r.err
    rows = {row.split()[0]: row.split() for row in after.splitlines()[2:7] if row}
    assert rows["alpha"][1:3] == ["applied", "2"] and rows["down"][1] == "unreachable"
    for name in ("alpha", "beta", "gamma"):
        assert clusters[name].store.get(BSL, "velero", "primary")["spec"]["objectStorage"]["bucket"] == f"velero-{name}"


def test_apply_fleet_answer_other_than_yes_writes_nothing(fleet, capsys, monkeypatch):
    root, clusters = fleet
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    r = cli(root, ["apply", "--fleet", "fleet.yaml", "--selector", "env=prod"], capsys, monkeypatch)
    assert r.code == 1 and "Apply cancelled." in r.err
    assert all(clusters[n].store.list(BSL, "velero")[0] == [] for n in ("alpha", "beta"))


def test_apply_fleet_refuses_a_cluster_that_changed_after_approval(fleet, capsys, monkeypatch):
    root, clusters = fleet

    class ChangesBeta(Terminal):
        def readline(self, *args):  # someone writes to beta while the person reads the plans
            clusters["beta"].store.create(BSL, "velero", {
                "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "other"},
                "spec": {"provider": "aws", "objectStorage": {"bucket": "theirs"}}})
            return super().readline(*args)

    monkeypatch.setattr(sys, "stdin", ChangesBeta("yes\n"))
    r = cli(root, ["apply", "--fleet", "fleet.yaml", "--selector", "env=prod", "--no-wait", "--skip-storage-check"],
            capsys, monkeypatch)
    assert r.code == 1
    beta = r.out.split("=== beta (error) ===\n")[1]
    assert "no longer holds" in beta and "bsl.other was created since the plan" in beta
    assert clusters["beta"].store.list(BSL, "velero")[0][0]["metadata"]["name"] == "other"  # nothing else written
    assert clusters["alpha"].store.get(BSL, "velero", "primary")["spec"]["objectStorage"]["bucket"] == "velero-alpha"


def test_ctrl_c_starts_no_new_cluster_and_stops_the_running_ones(fleet, capsys, monkeypatch):
    """Ctrl-C during apply --fleet: the running cluster's apply stops as on Ctrl-C (nothing new starts, its lock
    is released), the clusters not started are reported so, and the exit code is 130."""
    import _thread
    import threading

    from engine.apply.executor import ApplyOptions
    from engine.apply.targets import LockOptions
    from engine.cli.fleet_run import ClusterUI
    from engine.cli.terminal import Terminal as Term
    from engine.fleet import load_fleet
    from engine.fleet.run import FleetOptions, apply_cluster, overall_exit, run_fleet

    root, clusters = fleet
    monkeypatch.chdir(root)
    spec = load_fleet(root / "fleet.yaml")
    stop, guard = threading.Event(), threading.Lock()
    options = FleetOptions(parallelism=1)

    def job(cluster):
        if cluster.name == "alpha":
            _thread.interrupt_main()  # the person presses Ctrl-C while alpha runs
            assert stop.wait(10)
        return apply_cluster(spec, cluster, options, ApplyOptions(wait=False), LockOptions(), ClusterUI(Term(), cluster.name, guard),
                             check_storage=False, stop=stop)

    outcomes = run_fleet([spec.clusters[n] for n in ("alpha", "beta", "gamma")], job, 1, stop)
    assert [(o.cluster, o.exit_code, o.message) for o in outcomes] == [
        ("alpha", 130, "interrupted"), ("beta", 130, "not started: interrupted"),
        ("gamma", 130, "not started: interrupted")]
    assert overall_exit("apply", outcomes) == 130
    for name in ("alpha", "beta", "gamma"):
        assert clusters[name].store.list(BSL, "velero")[0] == []  # alpha was stopped before its first write
        assert clusters[name].store.list(LEASES, "velero")[0] == []  # and released its lock


def test_plan_fleet_markdown_is_one_comment_with_the_table_and_each_cluster(fleet, capsys, monkeypatch):
    root, _ = fleet
    r = cli(root, ["plan", "--fleet", "fleet.yaml", "--format", "markdown", "--cluster", "alpha", "--cluster", "down"],
            capsys, monkeypatch)
    assert r.code == 1
    lines = r.out.splitlines()
    assert lines[1] == "### snapplan fleet <code>test</code>: plan of 2 cluster(s)"
    assert "| alpha | changes | 2 | 0 | 0 | 0 | 0 |" in lines and "| down | unreachable | - | - | - | 1 | - |" in lines
    alpha = r.out.split("#### alpha: changes\n")[1].split("#### down")[0]
    assert "<!-- snapplan-plan policy=fleet-alpha -->" in alpha and "Schedule" in alpha
    down = r.out.split("#### down: unreachable\n")[1]
    assert down.startswith("\n```\ncannot reach the Kubernetes API server")
