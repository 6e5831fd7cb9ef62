"""The round trip: `snapplan plan -f imported.yaml --state SAME` shows no changes for what snapplan manages,
and only the adoption (snapplan's label and annotations) for what it does not manage yet."""
from __future__ import annotations

import base64

import pytest
import yaml

from engine.spec import load_policy
from tests.helpers import EXAMPLES, HARNESS_ENV, applied_state, dump_state, write
from tests.importer.support import acting, assert_adoption, extra_fields, import_cli, plan_cli

HARNESS_STATE = EXAMPLES / "harness" / "cluster-state.yaml"
CA = b"-----BEGIN CERTIFICATE-----\nMIIBimported\n-----END CERTIFICATE-----\n"


def test_harness_state_round_trip(tmp_path, capsys, monkeypatch):
    out = tmp_path / "imported.yaml"
    import_cli(HARNESS_STATE, out, capsys, monkeypatch)
    doc = yaml.safe_load(out.read_text())
    assert doc["metadata"]["name"] == "harness-prod"  # kept from the objects snapplan manages
    assert "restores" not in doc and "Restores are not imported" in out.read_text()
    plan = plan_cli(out, HARNESS_STATE, capsys, monkeypatch)
    changes = acting(plan)
    # managed before: no changes at all
    noop = {r["address"] for r in plan["resource_changes"] if r["action"] == "no-op"}
    assert {"bsl.primary", "schedule.nightly-full", "schedule.old-hourly"} <= noop
    # unmanaged before: adopted by an update
    assert set(changes) == {"bsl.default", "schedule.legacy-weekly"}
    for change in changes.values():
        assert_adoption(change)
    assert extra_fields(changes["bsl.default"]) == set()
    # A Velero-made schedule gets snapplan's backup labels (else its backups would copy the managed-by
    # label), and its own labels, which its backups carried while the template had none; import notes both.
    assert extra_fields(changes["schedule.legacy-weekly"]) == {
        'spec.template.metadata.labels["snapplan.io/scope"]', 'spec.template.metadata.labels["snapplan.io/app"]',
        'spec.template.metadata.labels.team'}
    assert plan["summary"] == {"add": 0, "change": 2, "destroy": 0}
    # the managed Secret the imported secretRef points at is kept, never pruned
    assert {"address": "secret.snapplan-primary-credentials",
            "reason": "used by bsl.primary (credentials.secretRef): never deleted while a location uses it"} \
        in plan["kept"]


def test_importing_what_apply_wrote_gives_the_same_policy_back(tmp_path, capsys, monkeypatch):
    first = tmp_path / "one" / "imported.yaml"
    first.parent.mkdir()
    import_cli(HARNESS_STATE, first, capsys, monkeypatch)
    managed = dump_state(tmp_path / "managed.yaml", applied_state(first))
    second = tmp_path / "two" / "imported.yaml"
    second.parent.mkdir()
    import_cli(managed, second, capsys, monkeypatch)
    assert yaml.safe_load(second.read_text()) == yaml.safe_load(first.read_text())
    assert plan_cli(second, managed, capsys, monkeypatch)["has_changes"] is False


def test_harness_policy_applied_then_imported(tmp_path, capsys, monkeypatch):
    """Everything the harness policy says comes back, but credentials (now secretRef) and restores."""
    original = EXAMPLES / "harness" / "policy.yaml"
    state = dump_state(tmp_path / "state.yaml", applied_state(original, HARNESS_ENV))
    out = tmp_path / "imported" / "policy.yaml"
    out.parent.mkdir()
    import_cli(state, out, capsys, monkeypatch)
    assert (out.parent / "minio-ca.pem").read_bytes() == (EXAMPLES / "harness" / "minio-ca.pem").read_bytes()
    plan = plan_cli(out, state, capsys, monkeypatch)
    assert plan["has_changes"] is False, acting(plan)
    before, _ = load_policy(original, env=HARNESS_ENV)
    after, _ = load_policy(out)
    assert after.name == before.name and after.apps == before.apps
    assert after.schedules == before.schedules
    for name, s in before.storage.items():
        got = after.storage[name]
        assert got.credentials is None or got.credentials.secret_name == f"snapplan-{name}-credentials"
        assert got.__class__(**{**got.__dict__, "credentials": s.credentials, "ca_file": s.ca_file}) == s


def test_minimal_state_needs_a_name_and_round_trips(tmp_path, capsys, monkeypatch):
    from tests.helpers import run_cli

    state = EXAMPLES / "minimal" / "cluster-state.yaml"
    res = run_cli(["import", "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1
    assert "no object in namespace velero" in res.err and "pass --name NAME" in res.err
    assert "Traceback" not in res.err
    out = tmp_path / "imported.yaml"
    import_cli(state, out, capsys, monkeypatch, "--name", "minimal")
    assert plan_cli(out, state, capsys, monkeypatch)["has_changes"] is False
    # and the minimal policy once applied comes back under its own name, without --name
    applied = dump_state(tmp_path / "applied.yaml", applied_state(EXAMPLES / "minimal" / "policy.yaml"))
    import_cli(applied, out, capsys, monkeypatch)
    assert yaml.safe_load(out.read_text())["metadata"]["name"] == "minimal"
    assert plan_cli(out, applied, capsys, monkeypatch)["has_changes"] is False


def _velero_made_state() -> dict:
    """What `velero install` and `velero schedule create` leave: no snapplan labels anywhere."""
    def meta(name, **extra):
        return {"name": name, "namespace": "velero", "resourceVersion": "7", **extra}

    bsl = "velero.io/v1"
    items = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("cloud-credentials"), "type": "Opaque"},
        {"apiVersion": bsl, "kind": "BackupStorageLocation", "metadata": meta("default"),
         "spec": {"provider": "aws", "default": True, "objectStorage": {"bucket": "velero-main"},
                  "config": {"region": "eu-west-1"}, "credential": {"name": "cloud-credentials", "key": "cloud"}}},
        {"apiVersion": bsl, "kind": "BackupStorageLocation", "metadata": meta("minio"),
         "spec": {"provider": "aws", "accessMode": "ReadOnly",
                  "objectStorage": {"bucket": "dr-site", "prefix": "site-b", "caCert": base64.b64encode(CA).decode()},
                  "config": {"region": "minio", "s3Url": "https://minio.example:9000", "s3ForcePathStyle": "true",
                             "checksumAlgorithm": ""},
                  "credential": {"name": "minio-creds", "key": "credentials"}, "validationFrequency": "5m0s"}},
        {"apiVersion": bsl, "kind": "VolumeSnapshotLocation", "metadata": meta("ebs"),
         "spec": {"provider": "aws", "config": {"region": "eu-west-1", "profile": "snapshots"}}},
        {"apiVersion": bsl, "kind": "Schedule", "metadata": meta("berlin-nightly"),
         "spec": {"schedule": "CRON_TZ=Europe/Berlin 30 2 * * *",
                  "template": {"includedNamespaces": ["*"], "excludedNamespaces": ["kube-system"], "ttl": "168h0m0s",
                               "storageLocation": "default", "volumeSnapshotLocations": ["ebs"],
                               "snapshotVolumes": True, "defaultVolumesToFsBackup": False}}},
        {"apiVersion": bsl, "kind": "Schedule", "metadata": meta("every-6h"),
         "spec": {"schedule": "@every 6h", "useOwnerReferencesInBackup": False,
                  "template": {"includedNamespaces": ["*"], "ttl": "36h0m0s", "storageLocation": "default",
                               "defaultVolumesToFsBackup": True}}},
        {"apiVersion": bsl, "kind": "Schedule", "metadata": meta("paused-weekly", labels={"team": "ops"}),
         "spec": {"schedule": "0 0 * * 0", "paused": True,
                  "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s", "storageLocation": "default"}}},
        # app-scoped, in the shape snapplan writes (an object whose managed-by label was removed)
        {"apiVersion": bsl, "kind": "Schedule", "metadata": meta("shop-hourly"),
         "spec": {"schedule": "0 * * * *", "paused": False,
                  "template": {"metadata": {"labels": {"snapplan.io/scope": "application",
                                                       "snapplan.io/app": "storefront"}},
                               "includedNamespaces": ["shop", "shop-db"], "includeClusterResources": False,
                               "labelSelector": {"matchLabels": {"app.kubernetes.io/part-of": "shop"}},
                               "ttl": "72h0m0s", "storageLocation": "default"}}},
        # the same app, made by `velero schedule create --include-namespaces shop,shop-db --selector ...`
        {"apiVersion": bsl, "kind": "Schedule", "metadata": meta("shop-daily"),
         "spec": {"schedule": "0 1 * * *",
                  "template": {"includedNamespaces": ["shop", "shop-db"], "ttl": "720h0m0s",
                               "labelSelector": {"matchLabels": {"app.kubernetes.io/part-of": "shop"}},
                               "storageLocation": "default"}}},
        {"apiVersion": bsl, "kind": "Restore", "metadata": meta("restore-once"),
         "spec": {"backupName": "x", "includedNamespaces": ["shop"]}},
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


EXPECTED = {
    "apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "ops"},
    "apps": {"storefront": {"namespaces": ["shop", "shop-db"],
                            "labelSelector": {"app.kubernetes.io/part-of": "shop"}}},
    "storage": {
        "default": {"type": "aws", "default": True, "bucket": "velero-main", "region": "eu-west-1",
                    "credentials": {"secretRef": {"name": "cloud-credentials"}}},
        "minio": {"type": "s3-compatible", "bucket": "dr-site", "prefix": "site-b", "region": "minio",
                  "endpoint": "https://minio.example:9000", "caFile": "./minio-ca.pem", "accessMode": "ReadOnly",
                  "credentials": {"secretRef": {"name": "minio-creds", "key": "credentials"}},
                  "config": {"checksumAlgorithm": ""}},
    },
    "snapshotLocations": {"ebs": {"type": "aws", "region": "eu-west-1", "config": {"profile": "snapshots"}}},
    "schedules": {
        "berlin-nightly": {"scope": "full", "exclude": ["kube-system"], "schedule": "30 2 * * *",
                           "timezone": "Europe/Berlin", "retention": "7d", "volumes": "snapshot",
                           "snapshotLocation": "ebs"},
        "every-6h": {"scope": "full", "schedule": "@every 6h", "retention": "36h", "volumes": "filesystem"},
        # paused without skipImmediately: Velero would start an overdue run at once when enabled
        "paused-weekly": {"scope": "full", "schedule": "weekly", "enabled": False, "startImmediately": True,
                          "backupLabels": {"team": "ops"}},
        "shop-daily": {"scope": "application", "app": "storefront", "schedule": "0 1 * * *"},
        "shop-hourly": {"scope": "application", "app": "storefront", "schedule": "hourly", "retention": "3d",
                        "clusterResources": "exclude"},
    },
}


def test_velero_made_state_round_trip(tmp_path, capsys, monkeypatch):
    state = dump_state(tmp_path / "state.yaml", _velero_made_state())
    out = tmp_path / "imported.yaml"
    res = import_cli(state, out, capsys, monkeypatch, "--name", "ops")
    assert yaml.safe_load(out.read_text()) == EXPECTED
    assert (tmp_path / "minio-ca.pem").read_bytes() == CA
    assert "Restores are not imported: a restore runs once (in the cluster: restore-once)." in out.read_text()
    assert "note: schedules.every-6h: kept as in the cluster (the policy has no field for them): " \
           "spec.useOwnerReferencesInBackup" in res.err
    plan = plan_cli(out, state, capsys, monkeypatch)
    changes = acting(plan)
    assert set(changes) == {"bsl.default", "bsl.minio", "vsl.ebs", "schedule.berlin-nightly", "schedule.every-6h",
                            "schedule.paused-weekly", "schedule.shop-daily", "schedule.shop-hourly"}
    for change in changes.values():
        assert_adoption(change)
    scope_full = {'spec.template.metadata.labels["snapplan.io/scope"]'}
    assert {a: extra_fields(c) for a, c in changes.items()} == {
        "bsl.default": set(), "bsl.minio": set(), "vsl.ebs": set(), "schedule.shop-hourly": set(),
        "schedule.berlin-nightly": scope_full, "schedule.every-6h": scope_full,
        "schedule.paused-weekly": scope_full | {'spec.template.metadata.labels.team'},
        "schedule.shop-daily": scope_full | {'spec.template.metadata.labels["snapplan.io/app"]'},
    }
    text = out.read_text()
    # the note above paused-weekly: its own label stays on its backups, now through the template
    assert "its own labels team=ops reach its backups while its template has none" in text


@pytest.mark.parametrize("storage", [
    "{type: aws, bucket: bk1, prefix: prod, region: eu-west-1, accessMode: ReadOnly, protect: true}",
    "{type: s3-compatible, bucket: bk1, endpoint: 'http://minio:9000'}",
    "{type: s3-compatible, bucket: bk1, endpoint: 'http://m:9000', pathStyle: false, region: r1, "
    "config: {s3ForcePathStyle: 'false'}}",
    "{type: gcp, bucket: bk1, config: {kmsKeyName: k}}",
    "{type: azure, bucket: ct1, resourceGroup: rg, storageAccount: sa, subscriptionId: sub}",
    "{type: hostpath, path: /snap}",
    "{type: nfs, server: 10.0.0.1, path: /exports, prefix: velero, bucket: shared}",
    "{type: pvc, storageSize: 20Gi, storageClassName: longhorn}",
])
def test_every_storage_type_comes_back(tmp_path, capsys, monkeypatch, storage):
    policy = write(tmp_path / "p" / "policy.yaml", "apiVersion: snapplan/v1\nkind: BackupPolicy\n"
                   f"metadata: {{name: p}}\nstorage:\n  s: {storage}\n")
    state = dump_state(tmp_path / "state.yaml", applied_state(policy))
    out = tmp_path / "imported.yaml"
    import_cli(state, out, capsys, monkeypatch)
    assert load_policy(out)[0].storage == load_policy(policy)[0].storage
    assert plan_cli(out, state, capsys, monkeypatch)["has_changes"] is False
