"""Shell completion (typer's), run as a user's shell runs it: the installed `snapplan` script in a
subprocess. The scripts for each shell, completing commands, options and their values, and
--install-completion writing where the shell reads it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SNAPPLAN = Path(sys.executable).with_name("snapplan")  # the console script `make install` puts in .venv/bin


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    assert SNAPPLAN.exists(), f"{SNAPPLAN}: run `make install` first"
    full = {**os.environ, "HOME": str(tmp_path), "NO_COLOR": "1", **env}
    return subprocess.run([str(SNAPPLAN), *args], capture_output=True, text=True, env=full, timeout=60)


def _complete(tmp_path: Path, words: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    res = _run([], tmp_path, _SNAPPLAN_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


@pytest.mark.parametrize("shell, line", [("bash", "complete -o default -F _snapplan_completion snapplan"),
                                         ("zsh", "#compdef snapplan"),
                                         ("fish", "complete --command snapplan")])
def test_show_completion_prints_the_script_for_each_shell(shell, line, tmp_path):
    # typer detects the user's shell; its test switch takes the shell as the option's value instead
    res = _run(["--show-completion", shell], tmp_path, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert res.returncode == 0, res.stderr
    assert line in res.stdout


def test_completion_knows_commands_options_and_values(tmp_path):
    assert _complete(tmp_path, "snapplan pl") == ["plan"]
    assert {"show", "snapshots"} <= set(_complete(tmp_path, "snapplan s"))
    assert "--format" in _complete(tmp_path, "snapplan plan --fo")
    assert _complete(tmp_path, "snapplan plan --format ") == ["text", "json", "markdown"]
    assert "show" in _complete(tmp_path, "snapplan snapshots ")


def test_install_completion_writes_the_script_and_sources_it(tmp_path):
    res = _run(["--install-completion", "bash"], tmp_path, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert res.returncode == 0, res.stderr
    script = tmp_path / ".bash_completions" / "snapplan.sh"
    assert "_snapplan_completion" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()
