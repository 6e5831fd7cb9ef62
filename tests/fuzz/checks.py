"""What every answer to hostile input must look like: a known exit code, no traceback, and errors that say where."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from engine.errors import PolicyError, SnapplanError

MAX_LINE = 1_000  # characters in one error line: a megabyte value must not become a megabyte message


def display_names(path: Path) -> set[str]:
    """The ways snapplan may name a file in a message (as given, or relative to the working directory)."""
    return {str(path), os.path.relpath(path)}


def check_policy_error(exc: PolicyError, path: Path, text: bytes) -> None:
    """Every diagnostic names the policy file and a line of it, and is short."""
    assert exc.diagnostics, "a PolicyError without diagnostics"
    lines = text.count(b"\n") + 1
    for d in exc.diagnostics:
        assert d.source is not None, f"no position: {d}"
        assert d.source.file in display_names(path), f"names another file: {d}"
        assert 1 <= d.source.line <= lines + 1 and d.source.col >= 1, f"position outside the file: {d}"
        assert len(str(d)) < MAX_LINE, f"a {len(str(d))}-character message"


def check_state_error(exc: SnapplanError, path: Path, is_yaml: bool) -> None:
    """A state-file error starts with the file's name, and for YAML with FILE:LINE (the file is readable)."""
    message = str(exc)
    assert message.startswith(str(path)), message[:300]
    if is_yaml:
        assert re.match(rf"{re.escape(str(path))}:\d+", message), message[:300]
    assert len(message) < MAX_LINE, f"a {len(message)}-character message"


# What a line of stderr may be when the policy is at fault: a diagnostic, the count, or a warning.
_SUMMARY = re.compile(r"^\d+ error\(s\) in the policy\.$")
_PLAN_PROBLEM = re.compile(r"^  - (secret|bsl|vsl|schedule|restore|backup)\.\S+ ")


def check_json_diagnostics(res, policy: Path) -> None:
    """`validate --json`: the verdict on stdout, each diagnostic with the policy file and a line."""
    doc = json.loads(res.out)
    assert doc["valid"] is (res.code == 0)
    for d in doc["diagnostics"]:
        assert d["file"] in display_names(policy) and d["line"] >= 1 and d["col"] >= 1, d


def check_cli(res, policy: Path, state: Path | None = None) -> None:
    """Exit 0, 1 or 2; no traceback anywhere; on failure every stderr line says where the problem is."""
    assert res.code in (0, 1, 2), f"exit {res.code}: {res.err[-2000:]}"
    for stream in (res.out, res.err):
        assert "Traceback" not in stream and "Internal error" not in stream, stream[-3000:]
    # Errors quote the file's content escaped (the plan on stdout too: test_cases.py).
    odd = {c for c in res.err if c != "\n" and not c.isprintable()}
    assert not odd, f"control or format characters reach the terminal: {sorted(odd)}"
    files = display_names(policy) | (display_names(state) if state else set())
    positioned = re.compile(r"^(Warning: )?(" + "|".join(re.escape(f) for f in files) + r"):\d+(:\d+)?: ")
    lines = [line for line in res.err.split("\n") if line.strip()]
    if res.code == 1:
        assert lines or res.out.strip(), "exit 1 without a message"  # validate --json answers on stdout
    for line in lines:
        assert len(line) < MAX_LINE, f"a {len(line)}-character line"
        if positioned.match(line) or _SUMMARY.match(line):
            continue
        if line == "Error: the plan cannot be made:" or _PLAN_PROBLEM.match(line):
            continue  # a conflict with the cluster: named by address, not by a line of the policy
        assert any(f in line for f in files), f"an error that names no file: {line!r}"
