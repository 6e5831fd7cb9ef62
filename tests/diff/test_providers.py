"""Providers compared as Velero compares them: pkg/plugin/clientmgmt/manager.go sanitizeName makes `gcp`
`velero.io/gcp`, so a location written `--provider gcp` is the policy's gcp storage, not another provider."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from engine.importer import import_policy
from engine.model import build_desired
from engine.model.manifest import to_manifest
from engine.model.provider import Provider
from engine.plan.build import PlanOptions, make_plan
from engine.plan.model import Action
from engine.spec import load_policy
from engine.state.live import LiveState
from tests.helpers import write

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
POLICY = """apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: p}
storage:
  g: {type: gcp, default: true, bucket: bucket-g, credentials: {secretRef: {name: cloud}}}
  a: {type: aws, bucket: bucket-a, region: eu-west-1, credentials: {secretRef: {name: cloud}}}
snapshotLocations:
  z: {type: azure, config: {resourceGroup: rg}}
"""


@pytest.fixture
def desired(tmp_path):
    policy, _ = load_policy(write(tmp_path / "p.yaml", POLICY), strict_sources=True, env={})
    return build_desired(policy, {})


def live_objects(desired, providers: dict[str, str], *, managed: bool) -> LiveState:
    state = LiveState("test")
    for addr, d in desired.objects.items():
        obj = to_manifest(d)
        obj["metadata"]["resourceVersion"] = "5"
        if not managed:
            obj["metadata"] = {"name": addr.name, "namespace": "velero", "resourceVersion": "5"}
        obj["spec"]["provider"] = providers[addr.name]
        state.add(copy.deepcopy(obj), "velero")
    return state


def test_sanitised_names():
    assert Provider.of("gcp") == Provider.of("velero.io/gcp") != Provider.of("velero.io/azure")
    assert Provider.of("aws") == Provider.of("velero.io/aws") and str(Provider.of("aws")) == "velero.io/aws"
    assert Provider.of("replicated.com/nfs") != Provider.of("nfs")


SHORT = {"g": "gcp", "a": "velero.io/aws", "z": "azure"}


def test_short_provider_names_plan_no_replace(desired):
    plan = make_plan(desired, live_objects(desired, SHORT, managed=True), PlanOptions(now=NOW))
    assert {str(c.address): c.action for c in plan.changes} == {
        "bsl.g": Action.NOOP, "bsl.a": Action.NOOP, "vsl.z": Action.NOOP}
    assert not [w for w in plan.warnings if "replaced" in w]


def test_adopting_a_location_written_with_a_short_provider_name_is_not_refused(desired):
    plan = make_plan(desired, live_objects(desired, SHORT, managed=False), PlanOptions(now=NOW))
    for c in plan.changes:
        assert c.action is Action.UPDATE and c.reasons == ("adopt: not managed by snapplan yet",), c
        assert not [f for f in c.fields if f.path == ("spec", "provider")]


def test_another_provider_is_still_a_replace(desired):
    plan = make_plan(desired, live_objects(desired, {**SHORT, "g": "azure"}, managed=True), PlanOptions(now=NOW))
    assert {str(c.address): c.action for c in plan.changes}["bsl.g"] is Action.REPLACE


def test_import_takes_gcp_azure_and_velero_io_aws(desired):
    result = import_policy(live_objects(desired, SHORT, managed=False), "velero", name="p")
    doc = result.document
    assert doc["storage"]["g"]["type"] == "gcp" and doc["storage"]["a"]["type"] == "aws"
    assert doc["snapshotLocations"]["z"]["type"] == "azure"
    assert result.not_imported == ()
