"""Round-trip helpers: `snapplan import` a state, then `snapplan plan` the imported policy against it."""
from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import NOW, run_cli

MANAGED_LABEL = ("metadata", "labels", "app.kubernetes.io/managed-by")
ADOPTION = {'metadata.labels["app.kubernetes.io/managed-by"]', 'metadata.annotations["snapplan.io/policy"]',
            'metadata.annotations["snapplan.io/last-applied"]'}


def import_cli(state: Path, out: Path, capsys, monkeypatch, *extra: str):
    res = run_cli(["import", "--state", str(state), "-o", str(out), *extra], capsys, monkeypatch)
    assert res.code == 0, res.err
    return res


def plan_cli(policy: Path, state: Path, capsys, monkeypatch, env: dict | None = None) -> dict:
    res = run_cli(["plan", "--json", "-f", str(policy), "--state", str(state), "--now", NOW], capsys, monkeypatch,
                  env=env)
    assert res.code == 0, res.err
    return json.loads(res.out)


def acting(plan: dict) -> dict[str, dict]:
    """address -> change, for the changes that do something."""
    return {r["address"]: r for r in plan["resource_changes"] if r["action"] != "no-op"}


def extra_fields(change: dict) -> set[str]:
    """The paths an adoption changes besides snapplan's own label and annotations."""
    return {f["path"] for f in change["fields"]} - ADOPTION


def assert_adoption(change: dict) -> None:
    assert change["action"] == "update", change
    assert change["reasons"] == ["adopt: not managed by snapplan yet"]
    assert ADOPTION <= {f["path"] for f in change["fields"]}
