"""Saved plans are signed with a key kept outside the plan file, and record only keyed digests of credentials:
an edited plan is refused, and a plan file does not give away short credentials to a dictionary."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat

import pytest
import yaml

from tests.helpers import EXAMPLES, HARNESS_ENV, run_cli

HARNESS = str(EXAMPLES / "harness" / "policy.yaml")
WEAK = {"MINIO_ACCESS_KEY": "minioadmin", "MINIO_SECRET_KEY": "minio123"}


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "cluster-state.yaml"
    shutil.copy(EXAMPLES / "harness" / "cluster-state.yaml", path)
    return path


def cli(capsys, monkeypatch, *args, env=HARNESS_ENV):
    return run_cli(list(args), capsys, monkeypatch, env=env)


def save(capsys, monkeypatch, state, out, env=HARNESS_ENV):
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--out", str(out), env=env)
    assert res.code == 0, res.err
    return json.loads(out.read_text())


def schedules(state) -> set[str]:
    return {i["metadata"]["name"] for i in yaml.safe_load(state.read_text())["items"] if i["kind"] == "Schedule"}


def test_a_dictionary_does_not_recover_credentials_from_a_saved_plan(capsys, monkeypatch, state, tmp_path):
    out = tmp_path / "p.plan"
    save(capsys, monkeypatch, state, out, env=WEAK)
    text = out.read_text()
    words = ["admin", "minio", "minioadmin", "minio123", "password", "secret", "AKIAFAKEMINIO0000001"]
    tried = 0
    for key in words:  # the attack that worked: sha256 of the credentials file snapplan builds, for guesses
        for secret in words:
            body = f"[default]\naws_access_key_id={key}\naws_secret_access_key={secret}\n".encode()
            for guess in (hashlib.sha256(body).hexdigest(), hashlib.sha256(secret.encode()).hexdigest()):
                tried += 1
                assert guess not in text, f"the saved plan gives away {key}/{secret}"
    assert tried == 2 * len(words) ** 2
    assert "minio123" not in text and "minioadmin" not in text


def test_credential_digests_are_salted_per_plan_and_still_tell_a_rotation(capsys, monkeypatch, state, tmp_path):
    first = save(capsys, monkeypatch, state, tmp_path / "a.plan", env=WEAK)
    second = save(capsys, monkeypatch, state, tmp_path / "b.plan", env=WEAK)
    addr = "secret.snapplan-minio-credentials"
    assert first["credentials"][addr]["cloud"] != second["credentials"][addr]["cloud"]  # same secret, new salt
    res = cli(capsys, monkeypatch, "apply", str(tmp_path / "a.plan"), env={**WEAK, "MINIO_SECRET_KEY": "minio124"})
    assert res.code == 1
    assert f"the credential source of {addr} changed since the plan" in res.err


def test_an_edited_saved_plan_is_refused_even_when_consistent(capsys, monkeypatch, state, tmp_path):
    out = tmp_path / "p.plan"
    saved = save(capsys, monkeypatch, state, out)
    assert "old-hourly" in schedules(state)
    # What an attacker did: turn on prune and add the delete a pruning plan would show, so the plan still holds.
    pruning = json.loads(cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--prune",
                             "--json").out)
    saved["options"]["prune"] = True
    saved["plan"]["resource_changes"] = pruning["resource_changes"]
    out.write_text(json.dumps(saved, indent=1, sort_keys=True))
    res = cli(capsys, monkeypatch, "apply", str(out))
    assert res.code == 1, res.out
    assert f"{out} was changed after `snapplan plan` wrote it" in res.err and "Nothing was applied" in res.err
    assert "old-hourly" in schedules(state)  # nothing deleted


def test_a_saved_plan_made_with_another_key_is_refused(capsys, monkeypatch, state, tmp_path):
    save(capsys, monkeypatch, state, tmp_path / "local.plan")  # this machine has a key file of its own
    out = tmp_path / "p.plan"
    save(capsys, monkeypatch, state, out, env={**HARNESS_ENV, "SNAPPLAN_PLAN_KEY": "k" * 40})
    monkeypatch.delenv("SNAPPLAN_PLAN_KEY")
    res = cli(capsys, monkeypatch, "apply", str(out))
    assert res.code == 1 and "is not signed with this machine's saved-plan key" in res.err
    res = cli(capsys, monkeypatch, "apply", str(out), env={**HARNESS_ENV, "SNAPPLAN_PLAN_KEY": "k" * 40})
    assert res.code == 0, res.err  # CI: the plan job and the apply job share the key


def test_the_key_file_is_made_private_and_refused_when_others_can_read_it(capsys, monkeypatch, state, tmp_path):
    from engine.plan.key import key_path

    save(capsys, monkeypatch, state, tmp_path / "p.plan")
    key = key_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert str(key).startswith(os.environ["XDG_CONFIG_HOME"])
    key.chmod(0o644)
    res = cli(capsys, monkeypatch, "apply", str(tmp_path / "p.plan"))
    assert res.code == 1 and f"chmod 600 {key}" in res.err


def test_no_key_here_says_where_the_key_comes_from(capsys, monkeypatch, state, tmp_path):
    from engine.plan.key import key_path

    save(capsys, monkeypatch, state, tmp_path / "p.plan")
    key_path().unlink()
    res = cli(capsys, monkeypatch, "apply", str(tmp_path / "p.plan"))
    assert res.code == 1 and "there is no saved-plan key here" in res.err and "SNAPPLAN_PLAN_KEY" in res.err


def test_a_short_environment_key_is_refused(capsys, monkeypatch, state, tmp_path):
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--out", str(tmp_path / "p.plan"),
              env={**HARNESS_ENV, "SNAPPLAN_PLAN_KEY": "short"})
    assert res.code == 1 and "SNAPPLAN_PLAN_KEY is shorter than 16 characters" in res.err
    assert not (tmp_path / "p.plan").exists()


@pytest.mark.parametrize("where", ["/proc/x", "{tmp}/a-file/x.plan", "{tmp}/a-file/sub/x.plan", "{tmp}/a-dir.plan",
                                   "/dev/null/x.plan"])
def test_an_unwritable_out_is_a_clear_error(capsys, monkeypatch, state, tmp_path, where):
    (tmp_path / "a-file").write_text("not a directory\n")
    (tmp_path / "a-dir.plan").mkdir()
    out = where.format(tmp=tmp_path)
    res = cli(capsys, monkeypatch, "plan", "-f", HARNESS, "--state", str(state), "--out", out)
    assert res.code == 1, res.err
    written = out if out.endswith(".plan") else out + ".plan"  # --out NAME gets the .plan suffix
    assert res.err.startswith(f"Error: cannot save the plan to {written}: "), res.err
    assert "Internal error" not in res.err and "Traceback" not in res.err
    assert list((tmp_path / "a-dir.plan").iterdir()) == []
