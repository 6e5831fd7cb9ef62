"""Patch kinds (merge, JSON, strategic, server-side apply) and the status subresource."""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

G, V, NS = "velero.io", "v1", "velero"
SCHEDULES = "/apis/velero.io/v1/namespaces/velero/schedules"


@pytest.fixture
def co(api_client) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def nightly(co: client.CustomObjectsApi) -> dict:
    return co.create_namespaced_custom_object(G, V, NS, "schedules", {
        "apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "template": {"ttl": "720h0m0s", "includedNamespaces": ["a", "b"]}}})


def test_merge_patch_sets_and_removes(co: client.CustomObjectsApi, nightly: dict) -> None:
    patched = co.patch_namespaced_custom_object(G, V, NS, "schedules", "nightly", {
        "spec": {"paused": True, "template": {"includedNamespaces": None}}})
    assert patched["spec"] == {"schedule": "0 3 * * *", "paused": True, "template": {"ttl": "720h0m0s"}}
    assert patched["metadata"]["generation"] == 2


def test_json_patch_and_its_failures(co: client.CustomObjectsApi, nightly: dict) -> None:
    ops = [{"op": "test", "path": "/spec/schedule", "value": "0 3 * * *"},
           {"op": "replace", "path": "/spec/schedule", "value": "0 5 * * *"},
           {"op": "add", "path": "/spec/template/includedNamespaces/-", "value": "c"},
           {"op": "remove", "path": "/spec/template/ttl"}]
    patched = co.patch_namespaced_custom_object(G, V, NS, "schedules", "nightly", ops,
                                                _content_type="application/json-patch+json")
    assert patched["spec"] == {"schedule": "0 5 * * *", "template": {"includedNamespaces": ["a", "b", "c"]}}
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(G, V, NS, "schedules", "nightly",
                                          [{"op": "test", "path": "/spec/schedule", "value": "nope"}],
                                          _content_type="application/json-patch+json")
    assert err.value.status == 422
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(G, V, NS, "schedules", "nightly",
                                          [{"op": "replace", "path": "/spec/schedule", "value": 3}],
                                          _content_type="application/json-patch+json")
    assert err.value.status == 422 and json.loads(err.value.body)["details"]["causes"][0]["field"] == "spec.schedule"


def test_strategic_merge_is_unsupported_for_custom_resources(http, nightly: dict) -> None:
    answer = http.request("PATCH", f"{SCHEDULES}/nightly", {"spec": {"paused": True}},
                          headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert answer.status == 415
    assert answer.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "UnsupportedMediaType",
        "message": "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        "code": 415}


def test_merge_patch_must_be_an_object(http, nightly: dict) -> None:
    answer = http.request("PATCH", f"{SCHEDULES}/nightly", [{"op": "remove", "path": "/spec/paused"}],
                          headers={"Content-Type": "application/merge-patch+json"})
    assert answer.status == 400 and answer.json()["message"] == "Invalid JSON Patch"


def test_strategic_merge_on_builtins_merges_keyed_lists(api_client, cluster) -> None:
    apps = client.AppsV1Api(api_client)
    patched = apps.patch_namespaced_deployment("velero", "velero", {"spec": {"template": {"spec": {
        "containers": [{"name": "velero", "args": ["server", "--log-level=debug"]}]}}}})
    containers = patched.spec.template.spec.containers
    assert [c.name for c in containers] == ["velero"] and containers[0].image == "velero/velero:v1.16.2"
    assert containers[0].args == ["server", "--log-level=debug"] and patched.metadata.generation == 2


def test_status_subresource_semantics(api_client, http) -> None:
    apps = client.AppsV1Api(api_client)
    before = apps.read_namespaced_deployment("velero", "velero")
    assert before.status.ready_replicas == 1
    main = apps.patch_namespaced_deployment("velero", "velero", {"status": {"readyReplicas": 0}})
    assert main.status.ready_replicas == 1  # the main resource ignores status
    assert main.metadata.resource_version == before.metadata.resource_version
    status = apps.patch_namespaced_deployment_status("velero", "velero", {"status": {"readyReplicas": 0},
                                                                         "spec": {"replicas": 5}})
    assert status.status.ready_replicas == 0 and status.spec.replicas == 1  # /status ignores spec
    assert status.metadata.generation == before.metadata.generation
    # Velero's CRDs declare no status subresource: /status is not served, the object carries status.
    assert http.request("GET", f"{SCHEDULES}/x/status").status == 404


def test_custom_resource_status_is_written_through_the_object(co: client.CustomObjectsApi) -> None:
    bsl = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "default"},
           "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}}, "status": {"phase": "Available"}}
    created = co.create_namespaced_custom_object(G, V, NS, "backupstoragelocations", bsl)
    assert created["status"] == {"phase": "Available"}
    replaced = co.replace_namespaced_custom_object(G, V, NS, "backupstoragelocations", "default",
                                                   {**created, "status": {"phase": "Unavailable"}})
    assert replaced["status"] == {"phase": "Unavailable"} and replaced["metadata"]["generation"] == 2


def test_server_side_apply_owns_fields_and_reports_conflicts(co: client.CustomObjectsApi) -> None:
    def apply(spec: dict, manager: str = "snapplan", force: bool = False) -> dict:
        body = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "ssa"}, "spec": spec}
        return co.patch_namespaced_custom_object(G, V, NS, "schedules", "ssa", body, field_manager=manager,
                                                 force=force, _content_type="application/apply-patch+yaml")
    apply({"schedule": "0 1 * * *", "paused": True, "template": {"ttl": "1h0m0s"}})  # 201: the client says None
    created = co.get_namespaced_custom_object(G, V, NS, "schedules", "ssa")
    assert [m["manager"] for m in created["metadata"]["managedFields"]] == ["snapplan"]
    again = apply({"schedule": "0 1 * * *", "paused": True, "template": {"ttl": "1h0m0s"}})
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    dropped = apply({"schedule": "0 1 * * *", "template": {"ttl": "1h0m0s"}})
    assert "paused" not in dropped["spec"]  # fields the manager stops applying are removed

    co.patch_namespaced_custom_object(G, V, NS, "schedules", "ssa", {"spec": {"schedule": "0 2 * * *"}},
                                      field_manager="someone-else")
    with pytest.raises(ApiException) as err:
        apply({"schedule": "0 1 * * *", "template": {"ttl": "1h0m0s"}})
    status = json.loads(err.value.body)
    assert err.value.status == 409 and status["message"] == (
        'Apply failed with 1 conflict: conflict with "someone-else" using velero.io/v1: .spec.schedule')
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "field": ".spec.schedule",
                                            "message": 'conflict with "someone-else" using velero.io/v1'}]
    forced = apply({"schedule": "0 1 * * *", "template": {"ttl": "1h0m0s"}}, force=True)
    assert forced["spec"]["schedule"] == "0 1 * * *"
