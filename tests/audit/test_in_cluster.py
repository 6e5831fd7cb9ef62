"""The in-cluster example (examples/in-cluster/): `snapplan audit --events --format openmetrics` with the pod's
service account (in-cluster config, no kubeconfig), within the example's read-only RBAC, Events on the Schedules."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes.config import incluster_config

from tests.helpers import EXAMPLES, run_cli, seed_backup, write

EXAMPLE = EXAMPLES / "in-cluster"
EVENTS = ("", "v1", "events")
SCHEDULES = ("velero.io", "v1", "schedules")


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((EXAMPLE / name).read_text()) if d]


@pytest.fixture
def in_cluster(cluster, tmp_path, monkeypatch):
    """This process as a pod of `cluster` sees it: service host and port in the environment, the service
    account's token and CA in files, no kubeconfig anywhere."""
    host, port = cluster.url.removeprefix("https://").rsplit(":", 1)
    token = write(tmp_path / "sa" / "token", cluster.token)
    ca = tmp_path / "sa" / "ca.crt"
    ca.write_bytes(cluster.ca_pem)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    # the paths the client reads in a pod (/var/run/secrets/kubernetes.io/serviceaccount/...)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    return cluster


def policy_from_configmap(tmp_path: Path) -> Path:
    (cm,) = docs("configmap.yaml")
    return write(tmp_path / "policy" / "policy.yaml", cm["data"]["policy.yaml"])


def allowed(verb: str, resource: str) -> bool:
    rules = [r for d in docs("rbac.yaml") if d["kind"] in ("Role", "ClusterRole") for r in d["rules"]]
    return any(resource in r["resources"] and verb in r["verbs"] for r in rules)


def test_audit_in_cluster_records_events_within_the_example_rbac(in_cluster, tmp_path, capsys, monkeypatch):
    cluster = in_cluster
    policy = policy_from_configmap(tmp_path)
    kubeconfig = cluster.write_kubeconfig(tmp_path / "admin-kubeconfig")  # only to set the cluster up
    setup = run_cli(["apply", "-f", str(policy), "--kubeconfig", str(kubeconfig), "--auto-approve", "--no-wait",
                     "--skip-storage-check"], capsys, monkeypatch)
    assert setup.code == 0, setup.err
    seed_backup(cluster.store, "nightly-20261124000000", "nightly", started="2026-11-24T00:00:05Z")
    cluster.requests.reset()

    r = run_cli(["audit", "-f", str(policy), "--events", "--format", "openmetrics", "--now", "2026-11-24T06:00:00Z"],
                capsys, monkeypatch)
    assert r.code == 0, r.err
    assert r.err == ""
    events = cluster.store.list(EVENTS, "velero")[0]
    schedule = cluster.store.get(SCHEDULES, "velero", "nightly")
    assert [(e["involvedObject"]["kind"], e["involvedObject"]["name"], e["involvedObject"]["uid"], e["type"],
             e["reason"]) for e in events] == [("Schedule", "nightly", schedule["metadata"]["uid"], "Normal",
                                                 "BackupFresh")]
    assert events[0]["message"].startswith("fresh; RPO 24h; last Completed backup nightly-20261124000000 ")
    assert events[0]["source"]["component"] == "snapplan-audit"

    made = cluster.requests.snapshot()
    assert made, "the audit made no request: it did not reach the cluster"
    assert [k for k in made if not allowed(*k)] == []  # every request is one the example's Role allows
    assert ("create", "events") in made and not any(v in ("update", "patch", "delete") for v, _ in made)
    # last, the check that needs the test extra (a virtualenv older than it skips only this part)
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus-client (test extra): make install")
    ages = [s.value for f in parser.text_string_to_metric_families(r.out) for s in f.samples
            if s.name == "snapplan_schedule_last_completed_backup_age_seconds" and s.labels["schedule"] == "nightly"]
    assert ages == [6 * 3600 - 5]


def test_stale_schedule_gets_a_warning_event_and_a_refused_event_is_a_warning(in_cluster, tmp_path, capsys,
                                                                              monkeypatch):
    cluster = in_cluster
    policy = policy_from_configmap(tmp_path)
    kubeconfig = cluster.write_kubeconfig(tmp_path / "admin-kubeconfig")
    assert run_cli(["apply", "-f", str(policy), "--kubeconfig", str(kubeconfig), "--auto-approve", "--no-wait",
                    "--skip-storage-check"], capsys, monkeypatch).code == 0
    seed_backup(cluster.store, "nightly-20261120000000", "nightly", started="2026-11-20T00:00:05Z")
    r = run_cli(["audit", "-f", str(policy), "--events", "--now", "2026-11-24T06:00:00Z"], capsys, monkeypatch)
    assert r.code == 0, r.err
    (event,) = cluster.store.list(EVENTS, "velero")[0]
    assert (event["type"], event["reason"]) == ("Warning", "BackupStale")
    # the API server refuses Events (no create on events): the audit still prints and exits as it would
    cluster.faults.add(verb="create", resource="events", status=403, message="events is forbidden: User \"system:serviceaccount:velero:snapplan-audit\" cannot create resource \"events\"")
    again = run_cli(["audit", "-f", str(policy), "--events", "--now", "2026-11-24T06:00:00Z"], capsys, monkeypatch)
    assert again.code == 0 and "Schedules" in again.out
    assert "Warning: could not record the Event on schedule.nightly: 403" in again.err


def test_events_need_a_cluster(tmp_path, capsys, monkeypatch):
    r = run_cli(["audit", "-f", str(EXAMPLES / "minimal" / "policy.yaml"), "--state", str(tmp_path / "s.yaml"),
                 "--events"], capsys, monkeypatch)
    assert r.code == 1 and "Events are written to a cluster, not a state file" in r.err


def test_cronjob_runs_the_audit_the_cli_accepts(capsys, monkeypatch):
    (job,) = docs("cronjob.yaml")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    script = pod["containers"][0]["args"][0]
    command = script.splitlines()[0].split(">")[0].split()
    assert command[:2] == ["snapplan", "audit"] and "--events" in command and "openmetrics" in command
    assert pod["serviceAccountName"] == "snapplan-audit"
    assert "kubeconfig" not in script.lower()  # in-cluster config
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert command[command.index("-f") + 1].startswith(mounts["policy"] + "/")
    assert {v["name"]: v.get("configMap", {}).get("name") for v in pod["volumes"]}["policy"] == "snapplan-policy"
    r = run_cli(["validate", "-f", str(policy_from_configmap_text())], capsys, monkeypatch)
    assert r.code == 0, r.err


def policy_from_configmap_text() -> Path:
    import tempfile

    return policy_from_configmap(Path(tempfile.mkdtemp()))
