"""Hostile cluster-state files through engine/state/file.py, then the planner: a LiveState the diff can
read, or one StateError naming the file (and the line, for YAML)."""
from __future__ import annotations

import copy

from hypothesis import given

from engine.errors import SnapplanError, StateError
from engine.planner import plan_against, prepare
from engine.state import read_state_file
from tests.fuzz.budget import fuzz
from tests.fuzz.checks import MAX_LINE, check_state_error
from tests.fuzz.figures import bounded, note
from tests.fuzz.strategies import state_files
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW

PREPARED = prepare(EXAMPLES / "harness" / "policy.yaml", env=HARNESS_ENV)


@fuzz(250)
@given(state=state_files())
def test_hostile_state_reads_and_plans_or_names_file_and_line(state, tmp_path):
    data, is_yaml = state
    path = tmp_path / "cluster-state.yaml"
    path.write_bytes(data)
    name = "library: hostile state -> read -> plan"
    with bounded(name):
        try:
            live = read_state_file(path)
        except StateError as exc:
            check_state_error(exc, path, is_yaml)
            note(name, "state error")
            return
        try:
            plan_against(copy.copy(PREPARED), live, now=NOW)
        except SnapplanError as exc:  # the plan cannot be made against this state: a conflict, not a crash
            assert str(exc) and all(len(line) < MAX_LINE for line in str(exc).splitlines())
            note(name, "plan error")
            return
    note(name, "planned")
