"""Import on the test cluster: objects made with the official client (unmanaged), `snapplan import`, `snapplan
apply` of the imported policy, then no changes, the objects managed, and their specs as they were."""
from __future__ import annotations

import copy

import pytest
import yaml

from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator
from tests.helpers import run_cli

GROUP, VERSION = "velero.io", "v1"
KINDS = {"bsl": "backupstoragelocations", "vsl": "volumesnapshotlocations", "schedule": "schedules"}


@pytest.fixture
def velero(cluster_factory, s3, tmp_path):
    """A cluster whose Velero simulator runs on wall time against moto, and the official client for it."""
    from kubernetes import config

    cluster = cluster_factory(clock=RealClock())
    cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))
    cluster.run_controllers(period=0.1)
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    api = config.new_client_from_config(str(kubeconfig))
    yield cluster, kubeconfig, api
    api.close()


def create_unmanaged(api, s3) -> None:
    """What a team that used the velero CLI has: a Secret, a location, a snapshot location, two schedules."""
    from kubernetes import client

    s3.create_bucket("live-backups")
    creds = s3.create_credentials()
    client.CoreV1Api(api).create_namespaced_secret("velero", {
        "metadata": {"name": "minio-creds"}, "stringData": {"cloud": creds.shared_credentials_file()}})
    custom = client.CustomObjectsApi(api)

    def create(kind: str, name: str, spec: dict, labels: dict | None = None) -> None:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name, "labels": labels or {}},
                "spec": spec}
        custom.create_namespaced_custom_object(GROUP, VERSION, "velero", f"{kind.lower()}s", body)

    create("BackupStorageLocation", "main", {
        "provider": "aws", "default": True, "objectStorage": {"bucket": "live-backups", "prefix": "velero"},
        "config": {"region": "us-east-1", "s3Url": s3.url, "s3ForcePathStyle": "true"},
        "credential": {"name": "minio-creds", "key": "cloud"}, "validationFrequency": "1s"})
    create("VolumeSnapshotLocation", "ebs", {"provider": "aws", "config": {"region": "us-east-1"}})
    create("Schedule", "nightly", {"schedule": "CRON_TZ=Europe/Berlin 0 2 * * *", "template": {
        "includedNamespaces": ["*"], "ttl": "168h0m0s", "storageLocation": "main"}}, labels={"team": "ops"})
    create("Schedule", "shop", {"schedule": "@every 6h", "paused": True, "template": {
        "metadata": {"labels": {"snapplan.io/scope": "application", "snapplan.io/app": "shop"}},
        "includedNamespaces": ["default"], "includeClusterResources": False, "ttl": "72h0m0s",
        "storageLocation": "main", "volumeSnapshotLocations": ["ebs"]}})


def read(api, address: str) -> dict:
    from kubernetes import client

    type_, name = address.split(".", 1)
    return client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, "velero", KINDS[type_], name)


def spec_of(obj: dict) -> dict:
    spec = copy.deepcopy(obj["spec"])
    spec.pop("skipImmediately", None)  # Velero writes its server default into every schedule
    return spec


def test_import_apply_adopts_without_changing_specs(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig, api = velero
    create_unmanaged(api, s3)
    addresses = ["bsl.main", "vsl.ebs", "schedule.nightly", "schedule.shop"]
    before = {a: spec_of(read(api, a)) for a in addresses}
    out = tmp_path / "imported.yaml"
    res = run_cli(["import", "--kubeconfig", str(kubeconfig), "--name", "live", "-o", str(out)], capsys, monkeypatch)
    assert res.code == 0, res.err
    policy = yaml.safe_load(out.read_text())
    assert policy["schedules"]["nightly"] == {"scope": "full", "schedule": "0 2 * * *", "timezone": "Europe/Berlin",
                                              "retention": "7d", "backupLabels": {"team": "ops"}}
    assert policy["schedules"]["shop"] == {"scope": "application", "app": "shop", "schedule": "@every 6h",
                                           "retention": "3d", "enabled": False, "startImmediately": True,
                                           "snapshotLocation": "ebs", "clusterResources": "exclude"}

    res = run_cli(["apply", "--auto-approve", "-f", str(out), "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "Apply complete! 0 added, 4 changed, 0 destroyed." in res.out
    res = run_cli(["plan", "-f", str(out), "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0 and "No changes." in res.out, res.out + res.err

    for address in addresses:
        obj = read(api, address)
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "snapplan"
        assert obj["metadata"]["annotations"]["snapplan.io/policy"] == "live"
        expected = before[address]
        if address == "schedule.nightly":
            # a velero-made schedule gets template labels: snapplan's, and its own, which its backups carried while
            # the template had none (backup_builder.go FromSchedule) and so keep carrying
            expected["template"]["metadata"] = {"labels": {"team": "ops", "snapplan.io/scope": "full"}}
        assert spec_of(obj) == expected, address
    # adoption changed only metadata, so apply did not wait for a validation; Velero's periodic one comes soon
    import time

    deadline = time.monotonic() + 20
    while (read(api, "bsl.main").get("status") or {}).get("phase") != "Available":
        assert time.monotonic() < deadline, read(api, "bsl.main").get("status")
        time.sleep(0.1)
