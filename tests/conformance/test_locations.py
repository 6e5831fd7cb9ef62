"""Locations against real Velero: validation (Available, Unavailable with Velero's own message), moving
`default: true`, and a prefix change (an update in place)."""
from __future__ import annotations

import pytest

from .scenario import BSL, cli, env_for, make_app, policy, xfail_on_secret_cache_race

pytestmark = pytest.mark.conformance


def apply(capsys, monkeypatch, path, s3real, env, *extra):
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", str(path), "--kubeconfig",
              str(s3real.cluster.kubeconfig), "--timeout", "2m", *extra, env=env)
    if "--skip-storage-check" not in extra:
        xfail_on_secret_cache_race(res)
    return res


def plan_text(capsys, monkeypatch, path, s3real, env):
    res = cli(capsys, monkeypatch, "plan", "-f", str(path), "--kubeconfig", str(s3real.cluster.kubeconfig), env=env)
    assert res.code == 0, res.err
    return res.out


def test_two_s3_compatible_locations_are_validated_available(s3real, tmp_path, capsys, monkeypatch):
    path, env = policy(tmp_path, s3real, make_app(s3real.store)), env_for(s3real)
    res = apply(capsys, monkeypatch, path, s3real, env)
    assert res.code == 0, res.out + res.err
    assert "bsl.primary: Creation complete (created; Available (validated " in res.err
    assert "bsl.secondary: Creation complete (created; Available (validated " in res.err
    for name in ("primary", "secondary"):
        status = s3real.store.get(BSL, "velero", name)["status"]
        assert status["phase"] == "Available", status
    assert "No changes." in plan_text(capsys, monkeypatch, path, s3real, env)


def test_a_wrong_secret_key_is_reported_with_veleros_own_message(s3real, tmp_path, capsys, monkeypatch):
    path = policy(tmp_path, s3real, make_app(s3real.store))
    res = apply(capsys, monkeypatch, path, s3real, env_for(s3real, secret="not-the-secret"), "--skip-storage-check")
    assert res.code == 1
    message = s3real.store.get(BSL, "velero", "secondary")["status"]["message"]
    assert message.startswith('BackupStorageLocation "secondary" is unavailable: ')
    assert "failed:  bsl.secondary: Velero marked bsl.secondary Unavailable: " in res.out
    assert " ".join(message.split()) in " ".join(res.out.split())  # the summary wraps long lines
    assert "not-the-secret" not in res.out + res.err


def test_moving_default_true_leaves_exactly_the_new_default(s3real, tmp_path, capsys, monkeypatch):
    app, env = make_app(s3real.store), env_for(s3real)
    assert apply(capsys, monkeypatch, policy(tmp_path, s3real, app), s3real, env).code == 0
    moved = policy(tmp_path, s3real, app, default="secondary")
    res = apply(capsys, monkeypatch, moved, s3real, env)
    assert res.code == 0, res.out + res.err
    # Velero's BSL controller keeps a single default (ensureSingleDefaultBSL): after its next passes, the
    # policy's choice must stand and the plan must be empty.
    s3real.wait_for(lambda: all(s3real.store.get(BSL, "velero", n)["status"].get("lastValidationTime", "") >
                              _validated_at(res) for n in ("primary", "secondary")), 60, "revalidated twice")
    defaults = {n: s3real.store.get(BSL, "velero", n)["spec"].get("default", False) for n in ("primary", "secondary")}
    assert defaults == {"primary": False, "secondary": True}
    assert "No changes." in plan_text(capsys, monkeypatch, moved, s3real, env)


def _validated_at(res) -> str:
    stamps = [line.split("validated ", 1)[1].split(")")[0] for line in res.err.splitlines() if "(validated " in line]
    return max(stamps) if stamps else ""


def test_a_prefix_change_updates_the_location_in_place_and_it_is_validated(s3real, tmp_path, capsys, monkeypatch):
    app, env = make_app(s3real.store), env_for(s3real)
    assert apply(capsys, monkeypatch, policy(tmp_path, s3real, app), s3real, env).code == 0
    uid = s3real.store.get(BSL, "velero", "primary")["metadata"]["uid"]
    moved = policy(tmp_path, s3real, app, primary_prefix="moved")
    assert "~ BackupStorageLocation velero/primary" in plan_text(capsys, monkeypatch, moved, s3real, env)
    res = apply(capsys, monkeypatch, moved, s3real, env)
    assert res.code == 0, res.out + res.err
    assert "bsl.primary: Modifications complete" in res.err and "Available (validated " in res.err
    bsl = s3real.store.get(BSL, "velero", "primary")
    assert bsl["metadata"]["uid"] == uid and bsl["spec"]["objectStorage"]["prefix"] == "moved"
    assert bsl["status"]["phase"] == "Available"
    assert "No changes." in plan_text(capsys, monkeypatch, moved, s3real, env)
