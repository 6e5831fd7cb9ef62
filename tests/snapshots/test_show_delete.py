"""`snapplan snapshots show` (with the restores made from a backup) and `snapshots delete` (through a
DeleteBackupRequest, after typing the name), against the test cluster and the Velero simulator."""
from __future__ import annotations

import io
import json
import sys
from datetime import timedelta

import pytest

from tests.cluster.velero_sim import objects
from tests.helpers import run_cli
from tests.snapshots.live import BACKUP, BSL, BUCKET, DBR, RESTORE

NIGHTLY = "nightly-full-20261124020000"
NOW = "2026-11-24T03:00:00Z"


class Typed(io.StringIO):
    """A terminal on which the user types `text`."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def nightly(live):
    """One completed nightly backup, its files in the bucket."""
    live.run(timedelta(hours=2, minutes=30))
    assert live.get(BACKUP, NIGHTLY)["status"]["phase"] == "Completed"
    assert live.s3.keys(BUCKET, f"backups/{NIGHTLY}/")
    return live


def cli(live, capsys, monkeypatch, *args):
    return run_cli(["snapshots", *args, "--kubeconfig", str(live.kubeconfig)], capsys, monkeypatch)


def test_show_lists_the_restores_made_from_the_backup(nightly, capsys, monkeypatch):
    live = nightly
    live.store.create(RESTORE, "velero", objects.restore("shop-back", backup_name=NIGHTLY,
                                                         included_namespaces=["app-a"]))
    live.run(timedelta(minutes=1))  # listed oldest first
    live.store.create(RESTORE, "velero", objects.restore("blog-copy", backup_name=NIGHTLY,
                                                         namespace_mapping={"app-b": "app-b-copy"}))
    live.store.create(RESTORE, "velero", objects.restore("elsewhere", backup_name="some-other-backup"))
    live.run(timedelta(minutes=2))

    res = cli(live, capsys, monkeypatch, "show", NIGHTLY, "--now", NOW, "-f", str(live.policy))
    assert res.code == 0, res.err
    assert "Restores made from it:" in res.out
    restore_lines = res.out.split("Restores made from it:\n", 1)[1].splitlines()
    assert [line.split(":")[0].strip() for line in restore_lines] == ["shop-back", "blog-copy"]
    assert "shop-back: Completed" in res.out and "namespaces app-a" in res.out
    assert "(mapped app-b->app-b-copy)" in res.out
    assert "elsewhere" not in res.out

    doc = json.loads(cli(live, capsys, monkeypatch, "show", NIGHTLY, "--now", NOW, "--json").out)
    assert [r["name"] for r in doc["restores"]] == ["shop-back", "blog-copy"]
    assert {r["phase"] for r in doc["restores"]} == {"Completed"}
    assert doc["labels"]["velero.io/schedule-name"] == "nightly-full"
    assert doc["excluded_namespaces"] == ["kube-system"] and doc["fs_volume_backups"] is None

    res = cli(live, capsys, monkeypatch, "show", "nightly-full-19990101000000")
    assert res.code == 1
    assert "no backup named nightly-full-19990101000000 in namespace velero" in res.err


def test_delete_asks_velero_which_removes_the_backup_its_data_and_restores(nightly, capsys, monkeypatch):
    live = nightly
    live.store.create(RESTORE, "velero", objects.restore("shop-back", backup_name=NIGHTLY))
    live.run(timedelta(minutes=2))

    res = cli(live, capsys, monkeypatch, "delete", NIGHTLY, "--yes")
    assert res.code == 0, res.err
    assert f"Requested deletion of backup {NIGHTLY}" in res.out and "the 1 restore(s) made from it" in res.out
    requests = live.store.list(DBR, "velero")[0]
    assert len(requests) == 1
    request = requests[0]
    uid = live.get(BACKUP, NIGHTLY)["metadata"]["uid"]
    assert request["spec"] == {"backupName": NIGHTLY}
    assert request["metadata"]["labels"] == {"velero.io/backup-name": NIGHTLY, "velero.io/backup-uid": uid}
    assert request["metadata"]["name"].startswith(f"{NIGHTLY}-")
    assert request["metadata"]["name"] in res.out
    assert live.names(BACKUP) == [NIGHTLY]  # snapplan itself deleted nothing

    live.cluster.clock.advance(1)
    live.cluster.step()
    assert NIGHTLY not in live.names(BACKUP)
    assert live.s3.keys(BUCKET, f"backups/{NIGHTLY}/") == []
    assert live.names(RESTORE) == []


def test_delete_needs_the_name_typed_and_refuses_without_a_terminal(nightly, capsys, monkeypatch):
    live = nightly
    res = cli(live, capsys, monkeypatch, "delete", NIGHTLY)  # stdin is not a terminal under pytest
    assert res.code == 1
    assert f"Refusing to delete backup {NIGHTLY}: there is no terminal to confirm on; pass --yes" in res.err
    assert live.names(DBR) == []

    monkeypatch.setattr(sys, "stdin", Typed("nightly-full\n"))
    res = cli(live, capsys, monkeypatch, "delete", NIGHTLY)
    assert res.code == 1
    assert "Type the backup's name to confirm: " in res.err
    assert "The name does not match; nothing was deleted." in res.err
    assert live.names(DBR) == []

    monkeypatch.setattr(sys, "stdin", Typed(f"{NIGHTLY}\n"))
    res = cli(live, capsys, monkeypatch, "delete", NIGHTLY)
    assert res.code == 0, res.err
    assert "will be deleted with its data in the bucket" in res.err
    assert len(live.names(DBR)) == 1


def test_delete_refuses_what_velero_would_not_delete(live, capsys, monkeypatch):
    live.store.create(BACKUP, "velero", objects.backup("running", storage_location="primary"))
    live.cluster.clock.advance(1)
    live.cluster.step()
    res = cli(live, capsys, monkeypatch, "delete", "running", "--yes")
    assert res.code == 1
    assert "backup running is still InProgress; Velero does not delete a backup in progress" in res.err

    res = cli(live, capsys, monkeypatch, "delete", "no-such-backup", "--yes")
    assert res.code == 1 and "no backup named no-such-backup in namespace velero" in res.err

    live.run(timedelta(seconds=30))
    bsl = live.get(BSL, "primary")
    bsl["spec"]["accessMode"] = "ReadOnly"
    live.store.replace(BSL, "velero", "primary", bsl)
    res = cli(live, capsys, monkeypatch, "delete", "running", "--yes")
    assert res.code == 1 and "storage location primary, which is ReadOnly" in res.err
    assert live.names(DBR) == []


@pytest.mark.parametrize("name", ["", "a/b", "Nightly"])
def test_a_name_no_backup_can_have_is_not_found(live, capsys, monkeypatch, name):
    for args in (["show", name], ["delete", name, "--yes"]):
        res = cli(live, capsys, monkeypatch, *args)
        assert res.code == 1, res.out
        assert res.err == (f"Error: no backup named {name!r} in namespace velero: a backup name is lowercase "
                           "letters, digits, '-' and '.' (list them with: snapplan snapshots)\n")
    assert live.names(DBR) == []
