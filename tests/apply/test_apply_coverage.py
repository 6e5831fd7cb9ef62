"""apply against the test cluster: every storage type and scope accepted by the CRD schemas, prune with and
without protect (backups never touched), and Ctrl-C during apply."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, HARNESS_ENV, run_cli, seed_backup, write, ctrl_c_as_a_terminal_sends

BSL = ("velero.io", "v1", "backupstoragelocations")
VSL = ("velero.io", "v1", "volumesnapshotlocations")
SCHEDULES = ("velero.io", "v1", "schedules")
BACKUPS = ("velero.io", "v1", "backups")
LEASES = ("coordination.k8s.io", "v1", "leases")

EVERYTHING = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: everything}
veleroNamespace: velero
apps:
  shop: {namespaces: [shop, shop-db], labelSelector: {app.kubernetes.io/part-of: shop}}
storage:
  s3: {type: aws, default: true, bucket: acme-backups, prefix: prod, region: eu-west-1,
       credentials: {secretRef: {name: cloud-credentials}}}
  minio: {type: s3-compatible, bucket: velero, endpoint: "https://minio.internal:9000", region: minio,
          pathStyle: true, caFile: ./ca.pem, accessMode: ReadOnly, credentials: {file: ./minio-credentials}}
  gcs: {type: gcp, bucket: acme-gcs, credentials: {secretRef: {name: gcp-credentials}}}
  blob: {type: azure, bucket: backups, resourceGroup: rg-backups, storageAccount: acmebackups,
         subscriptionId: 00000000-0000-0000-0000-000000000000, credentials: {secretRef: {name: azure-credentials}}}
  host: {type: hostpath, path: /var/lib/velero}
  nas: {type: nfs, server: nas.internal, path: /exports/velero}
  claim: {type: pvc, storageClassName: standard, storageSize: 100Gi}
snapshotLocations:
  ebs: {type: aws, region: eu-west-1}
schedules:
  full-daily: {scope: full, storage: s3, schedule: daily, timezone: Europe/Berlin, retention: 30d,
               snapshotLocation: ebs, exclude: [kube-system]}
  shop-hourly: {scope: application, app: shop, storage: gcs, schedule: "15 * * * *", retention: 7d,
                volumes: filesystem}
  weekly-blob: {scope: full, storage: blob, schedule: weekly, enabled: false, volumes: none}
  host-every: {scope: application, app: shop, storage: host, schedule: "@every 6h", volumes: snapshot}
  nas-monthly: {scope: full, storage: nas, schedule: monthly}
  claim-daily: {scope: full, storage: claim, schedule: "0 3 * * *", startImmediately: true}
restores:
  shop-back: {from: {backup: full-daily-20261124020000}, scope: application, app: shop,
              namespaceMapping: {shop: shop-restored}, existingResources: update}
"""


@pytest.fixture
def live(tmp_path):
    with Cluster() as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def test_every_storage_type_and_scope_is_accepted_and_converges(live, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig = live
    write(tmp_path / "ca.pem", (EXAMPLES / "harness" / "minio-ca.pem").read_text())
    write(tmp_path / "minio-credentials", "[default]\naws_access_key_id=AKIAFAKE\naws_secret_access_key=fake\n")
    policy = write(tmp_path / "policy.yaml", EVERYTHING)
    args = ["-f", str(policy), "--kubeconfig", str(kubeconfig)]
    res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", *args], capsys, monkeypatch)
    assert res.code == 1  # the restore's backup is not there, and --no-wait would not wait for Velero's sync
    assert ("failed:  restore.shop-back: backup full-daily-20261124020000 is not in the cluster yet; with "
            "--no-wait the restore would fail Velero's validation") in res.out, res.out
    assert "Apply failed: 15 added" in res.out
    seed_backup(cluster.store, "full-daily-20261124020000", "full-daily")
    res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", *args], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "Apply complete! 1 added, 0 changed, 0 destroyed." in res.out
    bsls = {o["metadata"]["name"]: o["spec"] for o in cluster.store.list(BSL, "velero")[0]}
    assert sorted(bsls) == ["blob", "claim", "gcs", "host", "minio", "nas", "s3"]
    assert bsls["minio"]["accessMode"] == "ReadOnly" and bsls["minio"]["objectStorage"]["caCert"]
    assert bsls["nas"]["provider"] == "replicated.com/nfs"
    assert [o["metadata"]["name"] for o in cluster.store.list(VSL, "velero")[0]] == ["ebs"]
    schedules = {o["metadata"]["name"]: o["spec"] for o in cluster.store.list(SCHEDULES, "velero")[0]}
    assert schedules["shop-hourly"]["template"]["includedNamespaces"] == ["shop", "shop-db"]
    assert schedules["weekly-blob"]["paused"] is True
    res = run_cli(["plan", "--detailed-exitcode", *args], capsys, monkeypatch)
    assert res.code == 0 and "No changes." in res.out, res.out


PRUNE_V1 = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: prune}
veleroNamespace: velero
storage:
  keep: {type: aws, default: true, bucket: keep-bucket, region: us-east-1, protect: true,
         credentials: {secretRef: {name: cloud-credentials}}}
  drop: {type: aws, bucket: drop-bucket, region: us-east-1, credentials: {secretRef: {name: cloud-credentials}}}
schedules:
  s1: {scope: full, storage: keep, schedule: daily}
  s2: {scope: full, storage: drop, schedule: daily}
"""
PRUNE_V2 = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: prune}
veleroNamespace: velero
storage:
  other: {type: aws, default: true, bucket: other-bucket, region: us-east-1,
          credentials: {secretRef: {name: cloud-credentials}}}
schedules:
  s1: {scope: full, storage: other, schedule: daily}
"""


def test_prune_with_and_without_protect_never_touches_backups(live, tmp_path, capsys, monkeypatch):
    cluster, kubeconfig = live
    v1, v2 = write(tmp_path / "v1.yaml", PRUNE_V1), write(tmp_path / "v2.yaml", PRUNE_V2)
    kc = ["--kubeconfig", str(kubeconfig)]
    assert run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", str(v1), *kc], capsys, monkeypatch).code == 0
    for i, schedule in enumerate(["s1", "s2"] * 5):
        cluster.store.create(BACKUPS, "velero", {
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": f"{schedule}-{i}", "labels": {"velero.io/schedule-name": schedule}},
            "spec": {"storageLocation": "keep" if schedule == "s1" else "drop"}, "status": {"phase": "Completed"}})

    res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", str(v2), *kc], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "Apply complete! 1 added, 1 changed, 0 destroyed." in res.out
    assert sorted(o["metadata"]["name"] for o in cluster.store.list(BSL, "velero")[0]) == ["drop", "keep", "other"]

    res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "--prune", "-f", str(v2), *kc], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "Apply complete! 0 added, 0 changed, 2 destroyed." in res.out
    assert "bsl.keep: protected (protect: true): never deleted" in res.out  # kept, and the plan says why
    assert sorted(o["metadata"]["name"] for o in cluster.store.list(BSL, "velero")[0]) == ["keep", "other"]
    assert sorted(o["metadata"]["name"] for o in cluster.store.list(SCHEDULES, "velero")[0]) == ["s1"]
    assert len(cluster.store.list(BACKUPS, "velero")[0]) == 10  # backups are never deleted by apply


def test_ctrl_c_stops_apply_releases_the_lock_and_says_what_was_done(live):
    cluster, kubeconfig = live
    cluster.faults.add(verb="create", resource="schedules", latency=1.5)
    env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "apply", "--auto-approve", "--no-wait", "--skip-storage-check", "--parallelism", "1",
         "-f", str(EXAMPLES / "harness" / "policy.yaml"), "--kubeconfig", str(kubeconfig)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_a_terminal_sends)
    deadline = time.monotonic() + 60
    while cluster.requests.snapshot().get(("create", "schedules"), 0) == 0:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Apply interrupted:" in out
    assert "not started: interrupted" in out
    assert "Run apply again to finish" in out
    assert cluster.store.list(LEASES, "velero")[0] == []  # the lock was released
    res = subprocess.run([sys.executable, "-m", "engine", "apply", "--auto-approve", "--no-wait", "--skip-storage-check",
                          "-f", str(EXAMPLES / "harness" / "policy.yaml"), "--kubeconfig", str(kubeconfig)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "Apply complete!" in res.stdout, res.stdout + res.stderr
