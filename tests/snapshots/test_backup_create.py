"""`snapplan backup create` against the test cluster while the Velero simulator works on its clock."""
from __future__ import annotations

import json
from datetime import timedelta

from engine.snapshots.details import parse_time
from tests.helpers import run_cli

from tests.snapshots.live import BACKUP, BSL, SimDriver

START = "2026-11-24T00:00:00Z"


def create(live, capsys, monkeypatch, *args):
    return run_cli(["backup", "create", "-f", str(live.policy), "--kubeconfig", str(live.kubeconfig),
                    "--now", START, *args], capsys, monkeypatch)


def test_backup_from_a_schedule_is_followed_until_completed(live, capsys, monkeypatch):
    with SimDriver(live.cluster):
        res = create(live, capsys, monkeypatch, "--schedule", "nightly-full")
    assert res.code == 0, res.err
    name = "nightly-full-manual-20261124000000"
    progress = [line for line in res.err.splitlines() if line.startswith(f"backup {name}: ")]
    phases = [line.split(": ", 1)[1].split(",")[0] for line in progress]
    assert phases[0] in ("New", "InProgress") and phases[-1] == "Completed", res.err
    assert "InProgress" in phases and "Finalizing" in phases
    backup = live.get(BACKUP, name)
    total = backup["status"]["progress"]["totalItems"]
    assert f"backup {name}: Completed, {total}/{total} items" in res.err
    assert "Phase:" in res.out and "Completed" in res.out
    assert f"{total} of {total} backed up" in res.out
    assert "Schedule:            nightly-full" in res.out
    assert "Storage location:    primary" in res.out
    expires = parse_time(backup["status"]["expiration"])
    assert expires - parse_time(backup["status"]["startTimestamp"]) == timedelta(days=7)
    assert f"Expires:             {expires:%Y-%m-%d %H:%M:%S} UTC (in 7 days)" in res.out

    # The Backup is what `velero backup create --from-schedule` makes: the template as spec, its labels
    # plus velero.io/schedule-name, and never snapplan's managed-by label (backups are data).
    template = live.get(("velero.io", "v1", "schedules"), "nightly-full")["spec"]["template"]
    assert {k: backup["spec"][k] for k in template} == template
    labels = backup["metadata"]["labels"]
    assert labels["velero.io/schedule-name"] == "nightly-full" and labels["snapplan.io/scope"] == "full"
    assert "app.kubernetes.io/managed-by" not in labels
    assert backup["metadata"]["annotations"]["snapplan.io/policy"] == "shop-prod"


def test_application_backup_with_its_own_retention_as_json(live, capsys, monkeypatch):
    with SimDriver(live.cluster):
        res = create(live, capsys, monkeypatch, "--scope", "application", "--app", "shop", "--retention", "2d",
                     "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["name"] == "shop-manual-20261124000000"
    assert (doc["phase"], doc["scope"], doc["app"], doc["ttl"]) == ("Completed", "partial", "shop", "48h0m0s")
    assert doc["included_namespaces"] == ["app-a"] and doc["storage_location"] == "primary"
    assert parse_time(doc["expires"]) - parse_time(doc["started"]) == timedelta(days=2)
    assert doc["items"]["backed_up"] == doc["items"]["total"] > 0
    assert doc["errors"] == doc["warnings"] == 0 and doc["failure_reason"] is None
    assert doc["duration_seconds"] > 0


def test_a_failed_backup_exits_1_with_velero_s_reason(live, capsys, monkeypatch):
    # The location was validated with good credentials; the upload at the end meets a wrong secret key.
    # (Validated hourly, so that Velero does not notice before the backup starts however slow this machine.)
    bsl = live.get(BSL, "primary")
    bsl["spec"]["validationFrequency"] = "1h"
    live.store.replace(BSL, "velero", "primary", bsl)
    live.cluster.step()
    live.set_credentials(live.creds.with_secret("wrong"))
    with SimDriver(live.cluster):
        res = create(live, capsys, monkeypatch, "--scope", "full", "--name", "before-upgrade")
    assert res.code == 1
    assert live.get(BACKUP, "before-upgrade")["status"]["phase"] == "Failed"
    assert "Failed" in res.out and "Velero's messages:" in res.out
    assert "failure: " in res.out and "SignatureDoesNotMatch" in res.out


def test_unavailable_location_is_refused_before_anything_is_created(live, capsys, monkeypatch):
    live.set_credentials(live.creds.with_secret("wrong"))
    live.cluster.clock.advance(61)  # Velero validates locations every minute
    live.cluster.step()
    assert live.get(BSL, "primary")["status"]["phase"] == "Unavailable"
    res = create(live, capsys, monkeypatch, "--schedule", "nightly-full")
    assert res.code == 1
    assert "Error: storage location primary is Unavailable: " in res.err
    assert "SignatureDoesNotMatch" in res.err and "Traceback" not in res.err
    assert live.names(BACKUP) == []


def test_read_only_location_is_refused(live, capsys, monkeypatch):
    bsl = live.get(BSL, "primary")
    bsl["spec"]["accessMode"] = "ReadOnly"
    live.store.replace(BSL, "velero", "primary", bsl)
    res = create(live, capsys, monkeypatch, "--scope", "full")
    assert res.code == 1
    assert "storage location primary is ReadOnly" in res.err
    assert live.names(BACKUP) == []


def test_no_wait_returns_after_creation(live, capsys, monkeypatch):
    res = create(live, capsys, monkeypatch, "--schedule", "shop-twice-daily", "--no-wait")
    assert res.code == 0, res.err
    assert "Backup shop-twice-daily-manual-20261124000000 created" in res.err
    assert "Follow it with: snapplan snapshots show shop-twice-daily-manual-20261124000000" in res.out
    assert live.names(BACKUP) == ["shop-twice-daily-manual-20261124000000"]
    res = create(live, capsys, monkeypatch, "--schedule", "shop-twice-daily", "--no-wait")
    assert res.code == 1 and "already exists" in res.err and "pick another --name" in res.err


def test_timeout_exits_1_and_says_velero_goes_on(live, capsys, monkeypatch):
    res = create(live, capsys, monkeypatch, "--scope", "full", "--timeout", "1s")  # nobody steps Velero
    assert res.code == 1
    assert "timed out after 1s waiting for backup full-manual-20261124000000" in res.err
    assert "Velero carries on with it" in res.err


def test_requests_that_do_not_fit_the_policy_are_refused_with_one_message(live, capsys, monkeypatch):
    cases = [
        (["--schedule", "weekly"], "no schedule 'weekly' in the policy (schedules: nightly-full, shop-twice-daily)"),
        (["--schedule", "nightly-full", "--retention", "2d"], "do not combine it with --scope"),
        (["--scope", "application"], "--scope application needs --app SLUG (apps: blog, shop)"),
        (["--scope", "application", "--app", "wiki"], "no app 'wiki' in the policy"),
        (["--scope", "full", "--retention", "2 days"], "--retention '2 days': use e.g. 7d, 2w, 36h or 1h30m"),
        (["--scope", "full", "--storage", "tape"], "no storage 'tape' in the policy (storage: primary)"),
        (["--scope", "full", "--name", "Bad_Name"], "'Bad_Name' is not a valid backup name"),
        ([], "give --schedule NAME, or --scope full|application"),
    ]
    for args, message in cases:
        res = create(live, capsys, monkeypatch, *args)
        assert res.code == 1, args
        assert message in res.err, (args, res.err)
        assert "Traceback" not in res.err
    assert live.names(BACKUP) == []


def test_on_a_terminal_the_progress_is_a_bar():
    import io

    from rich.console import Console

    from engine.cli.backup_cmd import BarProgress

    screen = io.StringIO()
    bar = BarProgress(Console(file=screen, force_terminal=True, width=100, color_system=None))
    for phase, done in (("InProgress", 0), ("InProgress", 120), ("Completed", 227)):
        bar.update({"metadata": {"name": "b1"}, "status": {"phase": phase, "progress": {
            "itemsBackedUp": done, "totalItems": 227}}})
    bar.close()
    last = screen.getvalue().rsplit("\r", 1)[-1]
    assert "b1: Completed" in last and "227/227" in last


def test_an_unknown_scope_is_named(capsys, monkeypatch):
    from tests.helpers import EXAMPLES

    res = run_cli(["backup", "create", "-f", str(EXAMPLES / "minimal" / "policy.yaml"), "--scope", "weird"],
                  capsys, monkeypatch)
    assert res.code == 1 and "--scope 'weird' is not a scope" in res.err
