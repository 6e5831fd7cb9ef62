"""Data safety with Velero running (the simulator on wall time, moto as S3) and waits on, against objects
snapplan does not manage whose names collide with its naming scheme: a Secret named
snapplan-<storage>-credentials holding someone's credentials, a location with a policy entry's name in
another bucket, and a Secret snapplan once made that someone else's location still uses.

Nothing of theirs is overwritten, moved or deleted, no Backup goes, every refusal says how to go on, and the
policy, once it follows that advice, applies and converges.
"""
from __future__ import annotations

import copy

from tests.cluster.apiserver.cluster import Cluster
from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator, objects as velero_objects
from tests.helpers import run_cli, write
from tests.reliability.support import GVR, objects, writes

THEIRS = (("Secret", "snapplan-main-credentials"), ("BackupStorageLocation", "second"),
          ("BackupStorageLocation", "legacy"), ("Secret", "snapplan-legacy-credentials"))
BACKUPS = 20


def policy(s3_url: str, *, main_credentials: str, second: str, with_second: bool = True) -> str:
    store = f"type: s3-compatible, endpoint: {s3_url}, pathStyle: true"
    lines = ["apiVersion: snapplan/v1", "kind: BackupPolicy", "metadata: {name: safety}", "storage:",
             f"  main: {{{store}, bucket: safety, prefix: main, default: true, credentials: {main_credentials}}}"]
    if with_second:
        lines.append(f"  {second}: {{{store}, bucket: safety, prefix: mine, credentials: {{file: ./creds}}}}")
    lines += ["schedules:", "  daily: {scope: full, storage: main, schedule: daily}"]
    return "\n".join(lines) + "\n"


def seed(store, s3) -> None:
    theirs = s3.create_credentials().shared_credentials_file()
    store.create(GVR["Secret"], "velero", velero_objects.credentials_secret("snapplan-main-credentials", theirs))
    store.create(GVR["BackupStorageLocation"], "velero", velero_objects.storage_location(
        "second", "their-bucket", s3_url=s3.url, credential=("snapplan-main-credentials", "cloud")))
    leftover = velero_objects.credentials_secret("snapplan-legacy-credentials", theirs)  # once snapplan's
    leftover["metadata"].update(labels={"app.kubernetes.io/managed-by": "snapplan"},
                                annotations={"snapplan.io/policy": "safety"})
    store.create(GVR["Secret"], "velero", leftover)
    store.create(GVR["BackupStorageLocation"], "velero", velero_objects.storage_location(
        "legacy", "no-such-bucket", s3_url=s3.url, credential=("snapplan-legacy-credentials", "cloud")))
    for i in range(BACKUPS):  # on a location Velero cannot reach: its sync leaves them alone
        backup = velero_objects.backup(f"legacy-{i:02d}", storage_location="legacy")
        backup["metadata"]["labels"] = {"velero.io/storage-location": "legacy"}
        backup["status"] = {"phase": "Completed" if i % 4 else "PartiallyFailed"}
        store.create(GVR["Backup"], "velero", backup)


def snapshot(store) -> dict:
    """Their objects as snapplan could change them (not the status Velero writes), and every Backup."""
    out = {}
    for kind, name in THEIRS:
        obj = copy.deepcopy(store.get(GVR[kind], "velero", name))
        out[f"{kind}/{name}"] = {k: obj["metadata"].get(k) for k in ("uid", "labels", "annotations")} | {
            "spec": obj.get("spec"), "data": obj.get("data")}
    out["Backups"] = sorted(b["metadata"]["name"] for b in objects(store, "Backup"))
    return out


def test_with_velero_running_colliding_names_are_refused_and_nothing_of_theirs_changes(
        tmp_path, s3, capsys, monkeypatch, figures):
    s3.create_bucket("safety")
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    with Cluster(clock=RealClock()) as cluster:
        cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))
        cluster.run_controllers(period=0.1)
        seed(cluster.store, s3)
        kc = ["--kubeconfig", str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))]
        before = snapshot(cluster.store)

        def apply(text: str, *extra: str):
            path = write(tmp_path / "policy.yaml", text)
            return run_cli(["apply", "--auto-approve", "--skip-storage-check", "--timeout", "60s", "-f", str(path), *kc, *extra],
                           capsys, monkeypatch)

        # 1. The names collide: the plan stops before any write, saying how to go on.
        start = cluster.requests.snapshot()
        res = apply(policy(s3.url, main_credentials="{file: ./creds}", second="second"), "--prune")
        assert res.code == 1, res.out + res.err
        assert ("bsl.main: its credentials Secret snapplan-main-credentials already exists in namespace velero "
                "and was not made by snapplan") in res.err
        assert "credentials: {secretRef: {name: snapplan-main-credentials, key: cloud}}" in res.err
        assert "bsl.second exists but is not managed by snapplan, and adopting it would move it" in res.err
        assert writes(cluster, start) == 0
        assert snapshot(cluster.store) == before

        # 2. Following the advice: their Secret used as it is (secretRef), our location under another name.
        followed = policy(s3.url, main_credentials="{secretRef: {name: snapplan-main-credentials, key: cloud}}",
                          second="mine")
        res = apply(followed, "--prune")
        assert res.code == 0, res.out + res.err
        assert "bsl.main: Creation complete (created; Available (validated" in res.err  # waited for Velero
        assert "secret.snapplan-legacy-credentials: used by bsl.legacy (not managed by snapplan): never deleted" \
            in res.out
        assert snapshot(cluster.store) == before

        # 3. Prune what left the policy: ours goes, theirs (and the Secret their location uses) stays.
        res = apply(policy(s3.url, main_credentials="{secretRef: {name: snapplan-main-credentials, key: cloud}}",
                           second="mine", with_second=False), "--prune")
        assert res.code == 0 and "Apply complete! 0 added, 0 changed, 2 destroyed." in res.out, res.out + res.err
        assert {o["metadata"]["name"] for o in objects(cluster.store, "BackupStorageLocation")} == {
            "main", "second", "legacy"}
        res = run_cli(["plan", "--detailed-exitcode", "--prune", "-f", str(tmp_path / "policy.yaml"), *kc],
                      capsys, monkeypatch)
        assert res.code == 0 and "No changes." in res.out, res.out
        assert snapshot(cluster.store) == before
    figures(f"data safety (Velero running, waits on): 2 colliding names refused before any write, the Secret "
            f"their location uses kept through --prune; {BACKUPS} "
            f"Backups and {len(THEIRS)} of their objects unchanged through apply, adoption advice and prune")
