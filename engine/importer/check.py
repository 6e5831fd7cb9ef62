"""Validate an imported policy the way `snapplan validate` would, before anyone relies on it."""
from __future__ import annotations

import tempfile
from pathlib import Path

from engine.errors import PolicyError


def problems_of(text: str, files: dict[str, bytes]) -> list[str]:
    """The policy's validation errors (empty when it is valid), checked in a scratch directory."""
    from engine.spec import load_policy

    with tempfile.TemporaryDirectory(prefix="snapplan-import-") as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            load_policy(path, env={})
        except PolicyError as exc:
            return [f"{d.path}: {d.message}" for d in exc.diagnostics if d.severity == "error"]
    return []
