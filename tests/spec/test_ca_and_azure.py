"""objectStorage.caCertRef (Velero 1.18; caCert is deprecated) in the policy, the plan and import; azure storage
without resourceGroup where Velero's azure code needs none (pkg/util/azure/storage.go)."""
from __future__ import annotations

import base64

import pytest
import yaml

from engine.importer import import_policy
from engine.model import build_desired
from engine.spec import load_policy
from engine.state.live import LiveState
from tests.helpers import NOW, run_cli, write

HEADER = "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata: {name: p}\nstorage:\n"
CA = b"-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"


def bsl_of(tmp_path, body: str) -> dict:
    policy, _ = load_policy(write(tmp_path / "p.yaml", HEADER + body), env={})
    return next(d.obj for a, d in build_desired(policy, {}).objects.items() if a.kind == "BackupStorageLocation")


def test_ca_cert_ref_is_written_as_velero_reads_it(tmp_path):
    obj = bsl_of(tmp_path, "  m: {type: s3-compatible, bucket: velero, endpoint: 'https://m:9000', "
                           "caCertRef: {name: minio-ca, key: ca.crt}}\n")
    assert obj["spec"]["objectStorage"]["caCertRef"] == {"name": "minio-ca", "key": "ca.crt"}
    assert "caCert" not in obj["spec"]["objectStorage"]


def test_ca_file_and_ca_cert_ref_together_are_refused(tmp_path, capsys, monkeypatch):
    write(tmp_path / "ca.pem", CA.decode())
    path = write(tmp_path / "p.yaml", HEADER + "  m:\n    type: aws\n    bucket: velero\n    region: eu-west-1\n"
                                               "    caFile: ./ca.pem\n    caCertRef: {name: c, key: ca.crt}\n")
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 1
    assert f"{path}:10:5: storage.m.caCertRef: give caFile or caCertRef, not both" in res.err


def test_ca_cert_ref_on_velero_before_1_18_warns(tmp_path, capsys, monkeypatch):
    policy = write(tmp_path / "p.yaml", HEADER + "  m: {type: aws, bucket: velero, region: eu-west-1, "
                                                 "caCertRef: {name: c, key: ca.crt}}\n")
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "velero", "namespace": "velero"},
              "spec": {"template": {"spec": {"containers": [{"name": "velero", "image": "velero/velero:v1.17.1"}]}}}}
    state = write(tmp_path / "s.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [deploy]}))
    res = run_cli(["plan", "-f", str(policy), "--state", str(state), "--now", NOW], capsys, monkeypatch)
    assert "bsl.m: caCertRef needs Velero 1.18 or later, and this is v1.17.1" in res.out


def test_import_keeps_ca_cert_and_ca_cert_ref():
    live = LiveState("state.yaml")
    for name, store in (("inline", {"bucket": "b1", "caCert": base64.b64encode(CA).decode()}),
                        ("by-ref", {"bucket": "b2", "caCertRef": {"name": "bsl-ca", "key": "ca.crt"}})):
        live.add({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": name},
                  "spec": {"provider": "aws", "objectStorage": store, "config": {"region": "eu-west-1"}}}, "velero")
    result = import_policy(live, "velero", name="p")
    storage = result.document["storage"]
    assert storage["inline"]["caFile"] == "./inline-ca.pem" and result.files["inline-ca.pem"] == CA
    assert storage["by-ref"]["caCertRef"] == {"name": "bsl-ca", "key": "ca.crt"}
    assert "kept as in the cluster" not in str(result.notes)


@pytest.mark.parametrize("config, warned", [({}, True), ({"useAAD": "true"}, False),
                                            ({"storageAccountKeyEnvVar": "AZURE_STORAGE_KEY"}, False),
                                            ({"storageAccountURI": "https://acme.blob.core.windows.net"}, True)])
def test_azure_without_resource_group(tmp_path, capsys, monkeypatch, config, warned):
    """Velero fetches the access key with the resource group and subscription only when neither useAAD nor
    storageAccountKeyEnvVar says where the key comes from (GetStorageAccountCredentials); even then the
    credentials file may carry AZURE_RESOURCE_GROUP, so it is a warning."""
    path = write(tmp_path / "p.yaml", HEADER + "  az:\n    type: azure\n    bucket: velero\n"
                                               "    storageAccount: acme\n" + (f"    config: {config}\n" if config else ""))
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert ("no resourceGroup: Velero needs it" in res.err) is warned
    obj = bsl_of(tmp_path, "  az: {type: azure, bucket: velero, storageAccount: acme}\n")
    assert obj["spec"]["config"] == {"storageAccount": "acme"}


def test_import_takes_azure_without_resource_group():
    live = LiveState("state.yaml")
    live.add({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "az"},
              "spec": {"provider": "azure", "objectStorage": {"bucket": "velero"},
                       "config": {"storageAccount": "acme", "useAAD": "true",
                                  "storageAccountURI": "https://acme.blob.core.windows.net"}}}, "velero")
    result = import_policy(live, "velero", name="p")
    assert result.document["storage"]["az"] == {
        "type": "azure", "bucket": "velero", "storageAccount": "acme",
        "config": {"storageAccountURI": "https://acme.blob.core.windows.net", "useAAD": "true"}}
