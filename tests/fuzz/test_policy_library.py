"""Generated and hostile policies through the library: load_policy, then the planner against the harness
cluster state. The only exceptions allowed out are SnapplanError and its subclasses."""
from __future__ import annotations

import copy
import shutil

import pytest
from hypothesis import given

from engine.errors import PolicyError, SnapplanError
from engine.plan.jsonform import plan_to_json
from engine.planner import plan_against, prepare
from engine.spec import load_policy
from engine.state import read_state_file
from tests.fuzz.budget import fuzz
from tests.fuzz.checks import MAX_LINE, check_policy_error
from tests.fuzz.figures import bounded, note
from tests.fuzz.strategies import dump, hostile_yaml, policies
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW

LIVE = read_state_file(EXAMPLES / "harness" / "cluster-state.yaml")


@pytest.fixture
def workdir(tmp_path):
    """A directory holding the credential and CA files the harness policy names."""
    for name in ("aws-credentials", "minio-ca.pem"):
        shutil.copy(EXAMPLES / "harness" / name, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="module")
def plan_schema():
    from jsonschema import Draft202012Validator

    from engine.spec.schema import load_schema

    return Draft202012Validator(load_schema("plan.schema.json"))


@fuzz(250)
@given(doc=policies)
def test_generated_policy_plans_or_names_file_and_line(doc, workdir, plan_schema):
    path = workdir / "policy.yaml"
    data = dump(doc).encode()
    path.write_bytes(data)
    name = "library: generated policy -> plan"
    with bounded(name):
        try:
            result = plan_against(prepare(path, env=HARNESS_ENV), copy.deepcopy(LIVE), now=NOW)
        except PolicyError as exc:
            check_policy_error(exc, path, data)
            note(name, "policy error")
            return
        except SnapplanError as exc:  # the plan cannot be made: a conflict with the cluster state
            assert str(exc) and all(len(line) < MAX_LINE for line in str(exc).splitlines())
            note(name, "plan error")
            return
        plan_schema.validate(plan_to_json(result.plan))
    note(name, "planned")


@fuzz(200)
@given(data=hostile_yaml())
def test_hostile_yaml_loads_or_names_file_and_line(data, workdir):
    path = workdir / "policy.yaml"
    path.write_bytes(data)
    name = "library: hostile YAML -> load_policy"
    with bounded(name):
        try:
            load_policy(path, strict_sources=True, env=HARNESS_ENV)
        except PolicyError as exc:
            check_policy_error(exc, path, data)
            note(name, "policy error")
            return
    note(name, "valid")
