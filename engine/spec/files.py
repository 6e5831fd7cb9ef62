"""Files a policy names (credentials.file, caFile) stay inside the policy's own directory tree.

A policy is reviewed as text; the bytes of the files it names go into cluster Secrets and location specs.
Without a bound, `file: /etc/passwd`, `../../..`, a symlink out of the tree or `/proc/self/environ` would
ship whatever they name to the cluster. The path is resolved (symlinks followed, `..` collapsed) and must
lie under the directory of the policy file that names it, or under a directory the person running
snapplan allows with SNAPPLAN_FILE_ROOTS — deliberately not a policy field, since the policy is what
the bound protects against.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.errors import printable

ROOTS_VAR = "SNAPPLAN_FILE_ROOTS"


def extra_roots(env: Mapping[str, str]) -> list[Path]:
    """Directories allowed besides the policy's own (SNAPPLAN_FILE_ROOTS, separated like PATH)."""
    return [Path(r).expanduser() for r in (env.get(ROOTS_VAR) or "").split(os.pathsep) if r.strip()]


def outside_problem(path: Path, root: Path, env: Mapping[str, str]) -> str | None:
    """Why `path` may not be read for a policy whose file lives in `root`, or None when it may."""
    try:
        resolved = path.resolve()
        roots = [r.resolve() for r in (root, *extra_roots(env))]
    except (OSError, RuntimeError, ValueError) as exc:  # a loop of symlinks, a NUL in the name
        return f"cannot be resolved ({getattr(exc, 'strerror', None) or exc})"
    if any(resolved == r or resolved.is_relative_to(r) for r in roots):
        return None
    via = "" if resolved == path.absolute() else f" (it resolves to {printable(str(resolved), 200)})"
    return (f"is outside the policy's directory {printable(str(root.resolve()), 200)}{via}: a policy may name only "
            f"files in its own directory tree. To allow another directory, set {ROOTS_VAR}="
            f"{printable(str(resolved.parent), 200)} (several directories separated by '{os.pathsep}') where you run "
            "snapplan")
