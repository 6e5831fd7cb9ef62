"""What a new user meets first (issue 20): the flags and messages of a first session with snapplan."""
from __future__ import annotations

from engine import __version__
from tests.helpers import run_cli


def test_version_prints_without_a_command(capsys, monkeypatch):
    res = run_cli(["--version"], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert res.out.strip() == f"snapplan {__version__}"
    assert "Missing command" not in res.err
