"""A delete planned earlier still happens when only Velero's status writes moved the object's
resourceVersion (a location is revalidated every minute, a schedule stamped at each backup), as in CI where
the plan is made on the pull request and applied at merge; a real change still refuses."""
from __future__ import annotations

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import run_cli, write

BSL = ("velero.io", "v1", "backupstoragelocations")
SCHEDULES = ("velero.io", "v1", "schedules")


def _policy(tmp_path, with_spare: bool):
    spare = "  spare: {type: aws, bucket: spare-bucket, region: us-east-1, credentials: {file: ./creds}}\n"
    sched = "  spare-nightly: {scope: full, storage: spare, schedule: daily}\n"
    return write(tmp_path / f"policy-{with_spare}.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: churn}}
storage:
  main: {{type: aws, default: true, bucket: main-bucket, region: us-east-1, credentials: {{file: ./creds}}}}
{spare if with_spare else ""}
schedules:
  nightly: {{scope: full, schedule: daily}}
{sched if with_spare else ""}""")


def test_saved_plan_deletes_objects_whose_status_velero_rewrote(tmp_path, capsys, monkeypatch):
    write(tmp_path / "creds", "[default]\naws_access_key_id=a\naws_secret_access_key=b\n")
    with Cluster() as cluster:
        kc = ["--kubeconfig", str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))]
        res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f",
                       str(_policy(tmp_path, True)), *kc], capsys, monkeypatch)
        assert res.code == 0, res.err
        saved = tmp_path / "prune.plan"
        res = run_cli(["plan", "-f", str(_policy(tmp_path, False)), *kc, "--prune", "--out", str(saved)],
                      capsys, monkeypatch)
        assert res.code == 0 and "bsl.spare will be destroyed" in res.out, res.err
        # Velero revalidates the location while apply runs: after apply read it (the schedule that used it
        # is deleted first) and before the location's own delete
        def revalidate(event, gvr, obj):
            if event == "DELETED" and gvr == SCHEDULES and obj["metadata"]["name"] == "spare-nightly":
                cluster.store.patch_status(BSL, "velero", "spare", {"phase": "Available",
                                                                    "lastValidationTime": "2026-11-25T09:00:00Z"})
        cluster.store.subscribe(revalidate)
        res = run_cli(["apply", str(saved), "--no-wait", "--skip-storage-check"], capsys, monkeypatch)
        assert res.code == 0, res.out + res.err
        assert "bsl.spare: Destruction complete" in res.err
        assert "schedule.spare-nightly: Destruction complete" in res.err
        names = {b["metadata"]["name"] for b in cluster.store.list(BSL)[0]}
        assert names == {"main"}


def test_a_delete_still_refuses_when_someone_changed_what_the_plan_saw(tmp_path, capsys, monkeypatch):
    write(tmp_path / "creds", "[default]\naws_access_key_id=a\naws_secret_access_key=b\n")
    with Cluster() as cluster:
        kc = ["--kubeconfig", str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))]
        assert run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f",
                        str(_policy(tmp_path, True)), *kc], capsys, monkeypatch).code == 0

        def edit(event, gvr, obj):
            if event == "DELETED" and gvr == SCHEDULES and obj["metadata"]["name"] == "spare-nightly":
                bsl = cluster.store.get(BSL, "velero", "spare")
                bsl["spec"]["objectStorage"]["bucket"] = "someone-elses-bucket"
                cluster.store.replace(BSL, "velero", "spare", bsl)
        cluster.store.subscribe(edit)
        res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "--prune", "-f",
                       str(_policy(tmp_path, False)), *kc], capsys, monkeypatch)
        assert res.code == 1
        assert "bsl.spare: FAILED: bsl.spare changed since the plan (its spec changed); not deleted." in res.err
        assert cluster.store.get(BSL, "velero", "spare")["spec"]["objectStorage"]["bucket"] == "someone-elses-bucket"
