"""Policy -> Velero objects: every storage type, every scope, labels that keep backups safe from pruning."""
from __future__ import annotations

import base64

import pytest

from engine.addr import Address
from engine.model import build_desired
from engine.model.crd import check_object
from engine.model.manifest import to_manifest
from engine.spec import load_policy
from tests.helpers import write

HEADER = "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata:\n  name: p\nveleroNamespace: backup-system\n"


def desired(tmp_path, body: str, env=None):
    write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=filesecret\n")
    write(tmp_path / "ca.pem", "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n")
    policy, _ = load_policy(write(tmp_path / "p.yaml", HEADER + body), strict_sources=True, env=env or {})
    return build_desired(policy, env or {})


def obj(state, kind, name):
    return state.objects[Address(kind, "backup-system", name)]


@pytest.mark.parametrize("storage, provider, config, object_storage", [
    ("{type: aws, bucket: bk1, prefix: prod, region: eu-west-1}", "aws", {"region": "eu-west-1"},
     {"bucket": "bk1", "prefix": "prod"}),
    ("{type: s3-compatible, bucket: bk1, endpoint: 'http://minio:9000'}", "aws",
     {"region": "us-east-1", "s3Url": "http://minio:9000", "s3ForcePathStyle": "true"}, {"bucket": "bk1"}),
    ("{type: s3-compatible, bucket: bk1, endpoint: 'http://m:9000', pathStyle: false, region: r1}", "aws",
     {"region": "r1", "s3Url": "http://m:9000"}, {"bucket": "bk1"}),
    ("{type: gcp, bucket: bk1}", "velero.io/gcp", None, {"bucket": "bk1"}),
    ("{type: azure, bucket: ct1, resourceGroup: rg, storageAccount: sa, subscriptionId: sub}", "velero.io/azure",
     {"resourceGroup": "rg", "storageAccount": "sa", "subscriptionId": "sub"}, {"bucket": "ct1"}),
    ("{type: hostpath, path: /snap}", "replicated.com/hostpath",
     {"path": "/snap", "resticRepoPrefix": "/var/velero-local-volume-provider/s/restic"}, {"bucket": "s"}),
    ("{type: nfs, server: 10.0.0.1, path: /exports, prefix: velero}", "replicated.com/nfs",
     {"server": "10.0.0.1", "path": "/exports", "resticRepoPrefix": "/var/velero-local-volume-provider/s/velero/restic"},
     {"bucket": "s", "prefix": "velero"}),
    ("{type: pvc, storageSize: 20Gi, storageClassName: longhorn}", "replicated.com/pvc",
     {"storageSize": "20Gi", "storageClassName": "longhorn", "resticRepoPrefix": "/var/velero-local-volume-provider/s/restic"},
     {"bucket": "s"}),
])
def test_every_storage_type(tmp_path, storage, provider, config, object_storage):
    state = desired(tmp_path, f"storage:\n  s: {storage}\n")
    bsl = obj(state, "BackupStorageLocation", "s").obj
    assert bsl["metadata"]["namespace"] == "backup-system"
    assert bsl["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "snapplan"}
    assert bsl["metadata"]["annotations"] == {"snapplan.io/policy": "p"}
    assert bsl["spec"]["provider"] == provider
    assert bsl["spec"].get("config") == config
    assert bsl["spec"]["objectStorage"] == object_storage
    assert bsl["spec"]["accessMode"] == "ReadWrite" and bsl["spec"]["default"] is False
    assert check_object(bsl) == []


def test_credentials_file_env_and_secret_ref(tmp_path):
    body = """storage:
  a: {type: aws, bucket: b-a, region: r, credentials: {file: ./creds}, protect: true, accessMode: ReadOnly}
  b: {type: s3-compatible, bucket: b-b, endpoint: 'https://m:9000', caFile: ./ca.pem,
      credentials: {env: {accessKeyId: K_ID, secretAccessKey: K_SECRET}}}
  c: {type: gcp, bucket: b-c, credentials: {secretRef: {name: gcp-sa}}}
"""
    state = desired(tmp_path, body, env={"K_ID": "AKIAENV", "K_SECRET": "envsecret"})
    secret_a = obj(state, "Secret", "snapplan-a-credentials")
    assert secret_a.secret == {"cloud": (tmp_path / "creds").read_bytes()}
    assert "data" not in secret_a.obj  # the plan never sees the bytes
    secret_b = obj(state, "Secret", "snapplan-b-credentials")
    assert secret_b.secret["cloud"] == b"[default]\naws_access_key_id=AKIAENV\naws_secret_access_key=envsecret\n"
    a = obj(state, "BackupStorageLocation", "a")
    assert a.obj["spec"]["credential"] == {"name": "snapplan-a-credentials", "key": "cloud"}
    assert a.obj["spec"]["accessMode"] == "ReadOnly"
    assert a.obj["metadata"]["annotations"]["snapplan.io/protect"] == "true"
    assert a.depends_on == (secret_a.address,)
    b = obj(state, "BackupStorageLocation", "b").obj
    assert base64.b64decode(b["spec"]["objectStorage"]["caCert"]) == (tmp_path / "ca.pem").read_bytes()
    c = obj(state, "BackupStorageLocation", "c")
    assert c.obj["spec"]["credential"] == {"name": "gcp-sa", "key": "cloud"}
    assert Address("Secret", "backup-system", "snapplan-c-credentials") not in state.objects
    manifest = to_manifest(secret_b)
    assert base64.b64decode(manifest["data"]["cloud"]) == secret_b.secret["cloud"]
    assert "envsecret" not in manifest["metadata"]["annotations"]["snapplan.io/last-applied"]


SCHEDULES = """apps:
  shop: {namespaces: [shop, shop-db], labelSelector: {tier: prod}}
storage:
  s: {type: aws, default: true, bucket: bk1, region: r}
snapshotLocations:
  ebs: {type: aws, region: eu-west-1}
schedules:
  full: {scope: full, schedule: weekly, timezone: America/New_York, retention: 2w, exclude: [kube-system],
         volumes: snapshot, snapshotLocation: ebs}
  app: {scope: application, app: shop, schedule: '@every 6h', retention: 36h, enabled: false,
        startImmediately: true, volumes: filesystem}
  none: {scope: full, schedule: monthly, volumes: none}
"""


def test_schedules_full_and_application(tmp_path):
    state = desired(tmp_path, SCHEDULES)
    full = obj(state, "Schedule", "full").obj["spec"]
    assert full == {
        "schedule": "CRON_TZ=America/New_York 0 0 * * 0", "paused": False, "skipImmediately": True,
        "template": {"metadata": {"labels": {"snapplan.io/scope": "full"}}, "ttl": "336h0m0s",
                     "storageLocation": "s", "includedNamespaces": ["*"], "excludedNamespaces": ["kube-system"],
                     "snapshotVolumes": True, "defaultVolumesToFsBackup": False,
                     "volumeSnapshotLocations": ["ebs"]},
    }
    app = obj(state, "Schedule", "app").obj["spec"]
    assert app["schedule"] == "@every 6h" and app["paused"] is True and app["skipImmediately"] is False
    assert app["template"] == {
        "metadata": {"labels": {"snapplan.io/scope": "application", "snapplan.io/app": "shop"}},
        "ttl": "36h0m0s", "storageLocation": "s", "includedNamespaces": ["shop", "shop-db"],
        "labelSelector": {"matchLabels": {"tier": "prod"}},
        "defaultVolumesToFsBackup": True,
    }
    none = obj(state, "Schedule", "none").obj["spec"]
    assert none["schedule"] == "0 0 1 * *" and none["template"]["ttl"] == "720h0m0s"
    assert none["template"]["snapshotVolumes"] is False
    vsl = obj(state, "VolumeSnapshotLocation", "ebs").obj
    assert vsl["spec"] == {"provider": "aws", "config": {"region": "eu-west-1"}}
    for d in state.objects.values():
        assert check_object(d.obj) == [], d.address


def test_managed_by_label_never_reaches_backups(tmp_path):
    """Velero copies a Schedule's labels onto its Backups when the template has none: ours always has some."""
    state = desired(tmp_path, SCHEDULES)
    for d in state.objects.values():
        if d.address.kind == "Schedule":
            labels = d.obj["spec"]["template"]["metadata"]["labels"]
            assert labels and "app.kubernetes.io/managed-by" not in labels


def test_restores(tmp_path):
    body = SCHEDULES + """restores:
  whole: {from: {backup: full-20261101000000}, scope: full, existingResources: update}
  shop-back: {from: {schedule: full}, scope: application, app: shop, namespaceMapping: {shop: shop-copy}}
"""
    state = desired(tmp_path, body)
    assert obj(state, "Restore", "whole").obj["spec"] == {
        "backupName": "full-20261101000000", "includedNamespaces": ["*"], "existingResourcePolicy": "update"}
    shop = obj(state, "Restore", "shop-back")
    assert shop.obj["spec"] == {
        "scheduleName": "full", "includedNamespaces": ["shop", "shop-db"],
        "labelSelector": {"matchLabels": {"tier": "prod"}}, "namespaceMapping": {"shop": "shop-copy"},
        "existingResourcePolicy": "none"}
    assert shop.depends_on == (Address("Schedule", "backup-system", "full"),)


def test_partial_restore_from_a_schedule_without_the_apps_namespaces_is_refused(tmp_path):
    from engine.errors import PolicyError

    body = SCHEDULES.replace("exclude: [kube-system]", "exclude: [kube-system, shop-db]") + """restores:
  r: {from: {schedule: full}, scope: application, app: shop}
"""
    with pytest.raises(PolicyError) as exc:
        desired(tmp_path, body)
    assert "backups of schedule 'full' do not contain namespace(s) shop-db of app 'shop'" in str(exc.value)


def test_crd_check_finds_unknown_and_invalid_fields():
    bad = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "x"},
           "spec": {"schedule": "0 * * * *", "paused": "yes", "template": {"ttl": "1h", "bogus": 1}}}
    problems = check_object(bad)
    assert any("spec.paused" in p and "boolean" in p for p in problems)
    assert "spec.template.bogus: field not in the CRD schema" in problems
