"""VolumeSnapshotLocation config per provider, as each plugin's VolumeSnapshotter Init checks it
(ValidateVolumeSnapshotterConfigKeys and its own parsing). Velero notices only when a backup snapshots a volume
(PartiallyFailed), so the policy refuses it at FILE:LINE:COL."""
from __future__ import annotations

import pytest

from engine.importer import import_policy
from engine.state.live import LiveState
from tests.helpers import run_cli, write

HEADER = "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata:\n  name: p\nsnapshotLocations:\n"


def validate(tmp_path, capsys, monkeypatch, body: str):
    path = write(tmp_path / "policy.yaml", HEADER + body)
    return run_cli(["validate", "-f", str(path)], capsys, monkeypatch), str(path)


@pytest.mark.parametrize("body", [
    "  ebs: {type: aws, region: eu-west-1, config: {profile: snap, ebsKmsKeyId: k}}\n",
    "  disks: {type: gcp, config: {snapshotLocation: us-central1, project: p, snapshotType: archive}}\n",
    "  disks: {type: azure, config: {resourceGroup: rg, apiTimeout: 5m, incremental: 'True', tags: 'a=b'}}\n",
])
def test_what_each_plugin_accepts_is_valid(tmp_path, capsys, monkeypatch, body):
    res, _ = validate(tmp_path, capsys, monkeypatch, body)
    assert res.code == 0, res.err


@pytest.mark.parametrize("body, line", [
    # gcp and azure take no region: snapplan used to write config.region for every type
    ("  disks:\n    type: gcp\n    region: us-central1\n", "8:5: snapshotLocations.disks.region: region does not "
     "apply to snapshot location type gcp (its plugin accepts config keys snapshotLocation, snapshotType, project, "
     "credentialsFile, volumeProject)"),
    ("  disks:\n    type: azure\n    config:\n      region: westeurope\n", "9:7: snapshotLocations.disks.config.region: "
     "config key 'region' is not one the azure plugin accepts (resourceGroup, apiTimeout, subscriptionId, incremental, "
     "tags, credentialsFile)"),
    ("  ebs:\n    type: aws\n", "6:3: snapshotLocations.ebs: an aws snapshot location needs region"),
    ("  disks:\n    type: gcp\n    config: {snapshotType: COLD}\n", "8:28: snapshotLocations.disks.config.snapshotType: "
     "config.snapshotType 'COLD' is not STANDARD or ARCHIVE"),
    ("  disks:\n    type: azure\n    config: {incremental: yes-please}\n", "8:27: snapshotLocations.disks.config."
     "incremental: config.incremental 'yes-please' is not a boolean as Go reads one"),
])
def test_what_a_plugin_refuses_is_an_error_at_its_line(tmp_path, capsys, monkeypatch, body, line):
    res, path = validate(tmp_path, capsys, monkeypatch, body)
    assert res.code == 1
    assert any(l.startswith(f"{path}:{line}") for l in res.err.splitlines()), res.err


def test_import_leaves_out_a_snapshot_location_its_plugin_would_refuse():
    live = LiveState("state.yaml")
    live.add({"apiVersion": "velero.io/v1", "kind": "VolumeSnapshotLocation", "metadata": {"name": "disks"},
              "spec": {"provider": "gcp", "config": {"region": "us-central1"}}}, "velero")
    live.add({"apiVersion": "velero.io/v1", "kind": "VolumeSnapshotLocation", "metadata": {"name": "good"},
              "spec": {"provider": "gcp", "config": {"snapshotLocation": "us-central1"}}}, "velero")
    result = import_policy(live, "velero", name="p")
    assert result.not_imported == ("vsl.disks",)
    assert result.document["snapshotLocations"] == {"good": {"type": "gcp", "config": {"snapshotLocation": "us-central1"}}}
    assert "not imported: config region is not one the gcp plugin accepts" in str(result.notes)
