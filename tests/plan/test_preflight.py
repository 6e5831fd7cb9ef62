"""Velero preflight in the plan: version, readiness, plugins per storage type, node-agent for fs backups."""
from __future__ import annotations

import json

from engine.plan.preflight import check_velero
from engine.spec import load_policy
from engine.state.live import LiveState
from tests.helpers import run_cli, write

POLICY = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: pf}
veleroNamespace: velero
storage:
  s3: {type: aws, default: true, bucket: bkt, region: us-east-1, credentials: {secretRef: {name: cloud-credentials}}}
  nas: {type: nfs, server: nas.internal, path: /exports/velero}
  blob: {type: azure, bucket: blobs, resourceGroup: rg, storageAccount: acct, credentials: {secretRef: {name: az}}}
schedules:
  files: {scope: full, storage: s3, schedule: daily, volumes: filesystem}
"""


def deployment(*plugins, ready=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "velero", "namespace": "velero"},
            "spec": {"replicas": 1, "template": {"spec": {
                "initContainers": [{"name": p, "image": f"velero/{p}:v1.12.0"} for p in plugins],
                "containers": [{"name": "velero", "image": "velero/velero:v1.16.2"}]}}},
            "status": {"readyReplicas": ready}}


def node_agent(ready, desired):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent", "namespace": "velero"},
            "status": {"numberReady": ready, "desiredNumberScheduled": desired}}


def preflight(tmp_path, *objects, source="cluster https://k8s:6443"):
    policy, _ = load_policy(write(tmp_path / "p.yaml", POLICY), env={})
    live = LiveState(source=source)
    for o in objects:
        live.add(o, "velero")
    return check_velero(policy, live)


def messages(p):
    return [("ok" if f.ok else "!!") + " " + f.message for f in p.findings]


def test_reports_version_plugins_and_node_agent(tmp_path):
    p = preflight(tmp_path, deployment("velero-plugin-for-aws", "velero-plugin-for-microsoft-azure"),
                  node_agent(3, 3))
    assert p.version == "v1.16.2"
    assert messages(p) == [
        "ok velero Deployment 1/1 ready",
        "!! plugin local-volume-provider is missing: storage nas (nfs) needs it; "
        "add it with: velero plugin add replicated/local-volume-provider:<version>",
        "ok plugin velero-plugin-for-aws v1.12.0 for storage s3 (aws)",
        "ok plugin velero-plugin-for-microsoft-azure v1.12.0 for storage blob (azure)",
        "ok node-agent 3/3 ready for file-system backups (files)",
    ]


def test_missing_node_agent_and_unready_velero(tmp_path):
    p = preflight(tmp_path, deployment("velero-plugin-for-aws", ready=0))
    text = "\n".join(messages(p))
    assert "!! velero Deployment 0/1 ready: apply's waits will time out until it runs" in text
    assert "!! no node-agent DaemonSet: schedule(s) files back up volumes from the file system" in text


def test_partly_ready_node_agent_is_flagged(tmp_path):
    p = preflight(tmp_path, deployment("velero-plugin-for-aws"), node_agent(2, 3))
    assert "!! node-agent 2/3 ready for file-system backups (files)" in messages(p)


def test_no_velero_deployment_in_a_cluster(tmp_path):
    p = preflight(tmp_path)
    assert messages(p) == ["!! no velero Deployment in namespace velero: nothing will act on these objects "
                           "(install Velero: velero install ...)"]


def test_a_state_file_without_workloads_is_not_checked(tmp_path):
    p = preflight(tmp_path, source="state.yaml")
    assert not p.checked and messages(p) == ["ok state.yaml holds no Deployments: Velero not checked"]


def test_live_plan_shows_the_preflight(cluster, kubeconfig, capsys, monkeypatch, tmp_path):
    policy = write(tmp_path / "policy.yaml", POLICY)
    res = run_cli(["plan", "--json", "-f", str(policy), "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0, res.err
    velero = json.loads(res.out)["velero"]
    assert velero["checked"] and velero["version"]
    assert any(not c["ok"] and "local-volume-provider" in c["message"] for c in velero["checks"])


def test_images_pinned_by_digest_are_recognised(tmp_path):
    # hardened clusters pin images as name:tag@sha256:... or name@sha256:...; the plugin is there all the same
    deploy = deployment()
    spec = deploy["spec"]["template"]["spec"]
    spec["initContainers"] = [
        {"name": "aws", "image": "registry.local:5000/velero/velero-plugin-for-aws@sha256:" + "a" * 64},
        {"name": "az", "image": "velero/velero-plugin-for-microsoft-azure:v1.12.0@sha256:" + "b" * 64},
        {"name": "lvp", "image": "replicated/local-volume-provider:v0.6.0"}]
    spec["containers"] = [{"name": "velero", "image": "velero/velero:v1.16.2@sha256:" + "c" * 64}]
    p = preflight(tmp_path, deploy, node_agent(1, 1))
    assert p.version == "v1.16.2"
    assert all(f.ok for f in p.findings), messages(p)
