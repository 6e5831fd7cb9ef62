"""Real kubectl against the test API server (skipped where kubectl is not installed)."""
from __future__ import annotations

import threading
import time

import yaml

NS = "velero"
BSL = ("velero.io", "v1", "backupstoragelocations")
SCHEDULE_YAML = """\
apiVersion: velero.io/v1
kind: Schedule
metadata:
  name: nightly
  namespace: velero
spec:
  schedule: "{cron}"
  template:
    ttl: 720h0m0s
"""


def add_location(cluster, name: str = "default", phase: str | None = "Available") -> None:
    obj = {"metadata": {"name": name}, "spec": {"provider": "aws", "objectStorage": {"bucket": "b"},
                                                "default": True}}
    if phase:
        obj["status"] = {"phase": phase}
    cluster.store.create(BSL, NS, obj)


def test_get_bsl_as_yaml_and_as_a_table(kubectl, cluster) -> None:
    add_location(cluster)
    cluster.clock.advance(90)
    got = kubectl("get", "bsl", "-n", NS, "-o", "yaml")
    assert got.returncode == 0, got.stderr
    listed = yaml.safe_load(got.stdout)
    assert listed["kind"] == "List" and listed["items"][0]["status"] == {"phase": "Available"}
    table = kubectl("get", "bsl", "-n", NS)
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split() == ["NAME", "PHASE", "LAST", "VALIDATED", "AGE", "DEFAULT"]
    assert table.stdout.split("\n")[1].split() == ["default", "Available", "90s", "true"]
    empty = kubectl("get", "schedules", "-n", NS)
    assert empty.returncode == 0 and empty.stderr.strip() == "No resources found in velero namespace."


def test_apply_create_reapply_unchanged_then_configured(kubectl, cluster, tmp_path) -> None:
    manifest = tmp_path / "schedule.yaml"
    manifest.write_text(SCHEDULE_YAML.format(cron="0 3 * * *"))
    created = kubectl("apply", "-f", str(manifest))
    assert created.returncode == 0 and created.stdout.strip() == "schedule.velero.io/nightly created", created.stderr
    before = cluster.store.get(("velero.io", "v1", "schedules"), NS, "nightly")["metadata"]
    again = kubectl("apply", "-f", str(manifest))
    assert again.stdout.strip() == "schedule.velero.io/nightly unchanged", again.stderr
    assert cluster.store.get(("velero.io", "v1", "schedules"), NS, "nightly")["metadata"] == before
    manifest.write_text(SCHEDULE_YAML.format(cron="30 3 * * 0"))
    changed = kubectl("apply", "-f", str(manifest))
    assert changed.stdout.strip() == "schedule.velero.io/nightly configured", changed.stderr
    after = cluster.store.get(("velero.io", "v1", "schedules"), NS, "nightly")
    assert after["spec"]["schedule"] == "30 3 * * 0" and after["metadata"]["generation"] == 2


def test_patch_merge_no_change_and_strategic(kubectl, cluster) -> None:
    add_location(cluster)
    args = ("patch", "bsl", "default", "-n", NS)
    first = kubectl(*args, "--type", "merge", "-p", '{"spec":{"default":false}}')
    assert first.stdout.strip() == "backupstoragelocation.velero.io/default patched", first.stderr
    second = kubectl(*args, "--type", "merge", "-p", '{"spec":{"default":false}}')
    assert second.stdout.strip() == "backupstoragelocation.velero.io/default patched (no change)"
    jsonpatch = kubectl(*args, "--type", "json", "-p", '[{"op":"replace","path":"/spec/default","value":true}]')
    assert jsonpatch.returncode == 0, jsonpatch.stderr
    strategic = kubectl(*args, "-p", '{"spec":{"default":false}}')
    assert strategic.returncode == 1
    assert strategic.stderr.strip() == (
        "error: application/strategic-merge-patch+json is not supported by velero.io/v1, Kind=BackupStorageLocation: "
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")


def test_delete_and_not_found(kubectl, cluster) -> None:
    add_location(cluster, "gone")
    deleted = kubectl("delete", "bsl", "gone", "-n", NS)
    assert deleted.stdout.strip() == 'backupstoragelocation.velero.io "gone" deleted', deleted.stderr
    missing = kubectl("delete", "bsl", "gone", "-n", NS)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): backupstoragelocations.velero.io "gone" not found'
    no_ns = kubectl("get", "bsl", "x", "-n", "nowhere")
    assert no_ns.stderr.strip() == 'Error from server (NotFound): namespaces "nowhere" not found'


def test_wait_for_jsonpath(kubectl, cluster) -> None:
    add_location(cluster, phase=None)

    def validate() -> None:
        time.sleep(1.0)
        cluster.store.patch_status(BSL, NS, "default", {"phase": "Available"})
    threading.Thread(target=validate).start()
    waited = kubectl("wait", "--for=jsonpath={.status.phase}=Available", "bsl/default", "-n", NS, "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.strip() == "backupstoragelocation.velero.io/default condition met"
    timeout = kubectl("wait", "--for=jsonpath={.status.phase}=Unavailable", "bsl/default", "-n", NS,
                      "--timeout=1s")
    assert timeout.returncode == 1
    assert timeout.stderr.strip() == "error: timed out waiting for the condition on backupstoragelocations/default"


def test_schema_violation_and_unknown_field_print_like_a_real_cluster(kubectl, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCHEDULE_YAML.format(cron="0 3 * * *").replace('"0 3 * * *"', "5").replace("nightly", "x"))
    applied = kubectl("apply", "-f", str(bad))
    assert applied.returncode == 1
    assert applied.stderr.strip() == ('The Schedule "x" is invalid: spec.schedule: Invalid value: "integer": '
                                      'spec.schedule in body must be of type string: "integer"')
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(SCHEDULE_YAML.format(cron="0 3 * * *") + "  retention: 30d\n")
    strict = kubectl("create", "-f", str(unknown))
    assert strict.returncode == 1 and strict.stderr.strip() == (
        f'Error from server (BadRequest): error when creating "{unknown}": Schedule in version "v1" cannot be '
        'handled as a Schedule: strict decoding error: unknown field "spec.retention"')
    warned = kubectl("create", "--validate=warn", "-f", str(unknown))
    assert warned.returncode == 0 and 'Warning: unknown field "spec.retention"' in warned.stderr


def test_wrong_token_is_refused(kubectl, kubeconfig) -> None:
    refused = kubectl("get", "bsl", "-n", NS, "--token=wrong")
    assert refused.returncode == 1 and "You must be logged in to the server" in refused.stderr


def test_create_commands_that_send_protobuf(kubectl, cluster) -> None:
    assert kubectl("create", "namespace", "app").stdout.strip() == "namespace/app created"
    secret = kubectl("create", "secret", "generic", "cloud-credentials", "-n", "app", "--from-literal=cloud=key")
    assert secret.stdout.strip() == "secret/cloud-credentials created", secret.stderr
    configmap = kubectl("create", "configmap", "settings", "-n", "app", "--from-literal=a=b")
    assert configmap.returncode == 0, configmap.stderr
    deployment = kubectl("create", "deployment", "web", "-n", "app", "--image=nginx:1", "--replicas=2")
    assert deployment.returncode == 0, deployment.stderr
    assert cluster.store.get(("", "v1", "secrets"), "app", "cloud-credentials")["data"] == {"cloud": "a2V5"}
    assert cluster.store.get(("", "v1", "configmaps"), "app", "settings")["data"] == {"a": "b"}
    web = cluster.store.get(("apps", "v1", "deployments"), "app", "web")
    assert web["spec"]["replicas"] == 2 and web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
