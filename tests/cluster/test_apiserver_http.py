"""The HTTPS front: auth, discovery, OpenAPI, clusters without Velero, fault injection, request counting."""
from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

AGGREGATED_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                     "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


def test_requests_without_the_token_get_401(http) -> None:
    for token in (None, "wrong"):
        answer = http.request("GET", "/api", token=token)
        assert answer.status == 401
        assert answer.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_version_and_plain_discovery(http) -> None:
    assert http.request("GET", "/version?timeout=5s").json()["minor"] == "32"
    assert http.request("GET", "/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in http.request("GET", "/apis").json()["groups"]}
    assert groups == {"apps", "coordination.k8s.io", "apiextensions.k8s.io", "velero.io"}
    velero = http.request("GET", "/apis/velero.io/v1").json()
    bsl = next(r for r in velero["resources"] if r["name"] == "backupstoragelocations")
    assert bsl["shortNames"] == ["bsl"] and bsl["kind"] == "BackupStorageLocation" and bsl["namespaced"]
    group = http.request("GET", "/apis/velero.io").json()
    assert group["kind"] == "APIGroup" and group["preferredVersion"]["groupVersion"] == "velero.io/v1"
    core = {r["name"] for r in http.request("GET", "/api/v1").json()["resources"]}
    assert {"namespaces", "secrets", "configmaps", "namespaces/status"} <= core


def test_aggregated_discovery(http) -> None:
    answer = http.request("GET", "/apis", headers={"Accept": AGGREGATED_ACCEPT})
    assert answer.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    velero = next(i for i in answer.json()["items"] if i["metadata"]["name"] == "velero.io")
    vsl = next(r for r in velero["versions"][0]["resources"] if r["resource"] == "volumesnapshotlocations")
    assert vsl["shortNames"] == ["vsl"] and vsl["scope"] == "Namespaced"
    assert vsl["responseKind"] == {"group": "velero.io", "version": "v1", "kind": "VolumeSnapshotLocation"}
    core = http.request("GET", "/api", headers={"Accept": AGGREGATED_ACCEPT}).json()
    assert [i["metadata"]["name"] for i in core["items"]] == [""]


def test_openapi_v3_lets_kubectl_validate_on_the_server(http) -> None:
    root = http.request("GET", "/openapi/v3?timeout=32s").json()
    url = root["paths"]["apis/velero.io/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/velero.io/v1?hash=")
    doc = http.request("GET", url).json()
    patch = doc["paths"]["/apis/velero.io/v1/namespaces/{namespace}/schedules/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "velero.io", "version": "v1", "kind": "Schedule"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert http.request("GET", "/openapi/v2").status == 404


def test_a_cluster_without_velero_has_no_velero_api(cluster_factory, tmp_path) -> None:
    bare = cluster_factory(with_velero=False)
    from tests.cluster.fixtures import Http
    http = Http(bare)
    assert http.request("GET", "/apis/velero.io/v1/namespaces/velero/schedules").status == 404
    assert "velero.io" not in {g["name"] for g in http.request("GET", "/apis").json()["groups"]}
    names = [n["metadata"]["name"] for n in http.request("GET", "/api/v1/namespaces").json()["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_stop_ends_open_watches(cluster, http) -> None:
    result: dict = {}

    def watch() -> None:
        result["answer"] = http.request("GET", "/apis/velero.io/v1/namespaces/velero/backups?watch=true")
    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    cluster.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert result["answer"].status == 200


def test_fault_429_with_retry_after_on_the_nth_request(cluster, http) -> None:
    cluster.faults.add(verb="list", resource="schedules", status=429, retry_after=7, nth=2)
    path = "/apis/velero.io/v1/namespaces/velero/schedules"
    answers = [http.request("GET", path) for _ in range(3)]
    assert [a.status for a in answers] == [200, 429, 200]
    assert answers[1].headers["Retry-After"] == "7"
    assert answers[1].json()["reason"] == "TooManyRequests"
    assert answers[1].json()["details"] == {"retryAfterSeconds": 7}


def test_fault_dropped_connection_and_server_errors(cluster, api_client) -> None:
    co = client.CustomObjectsApi(api_client)
    cluster.faults.add(verb="get", path=r"/schedules/dropme$", drop=True)
    with pytest.raises(Exception) as err:
        co.get_namespaced_custom_object("velero.io", "v1", "velero", "schedules", "dropme", _request_timeout=5)
    assert not isinstance(err.value, ApiException)  # no HTTP answer at all, even after urllib3's retries
    cluster.faults.clear()
    cluster.requests.reset()
    cluster.faults.add(verb="get", path=r"/schedules/once$", drop=True, times=1)
    with pytest.raises(ApiException) as err:
        co.get_namespaced_custom_object("velero.io", "v1", "velero", "schedules", "once", _request_timeout=5)
    assert err.value.status == 404 and cluster.requests.count(verb="get") == 2  # urllib3 retried the GET
    cluster.faults.add(verb="create", resource="schedules", status=503)
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object("velero.io", "v1", "velero", "schedules", {})
    assert err.value.status == 503 and json.loads(err.value.body)["reason"] == "ServiceUnavailable"


def test_fault_probability_is_seeded_and_latency_adds_up(cluster, http) -> None:
    def pattern() -> list[int]:
        cluster.faults.clear()
        cluster.faults.add(verb="get", resource="/version", status=500, probability=0.5, seed=42)
        return [http.request("GET", "/version").status for _ in range(12)]
    first = pattern()
    assert first == pattern() and set(first) == {200, 500}
    cluster.faults.clear()
    cluster.faults.add(path="^/version$", latency=0.3)
    started = time.monotonic()
    assert http.request("GET", "/version").status == 200
    assert time.monotonic() - started >= 0.3


def test_request_counter_in_process_and_over_http(cluster, api_client, http) -> None:
    co = client.CustomObjectsApi(api_client)
    cluster.requests.reset()
    co.list_namespaced_custom_object("velero.io", "v1", "velero", "schedules")
    co.list_namespaced_custom_object("velero.io", "v1", "velero", "schedules")
    with pytest.raises(ApiException):
        co.get_namespaced_custom_object("velero.io", "v1", "velero", "schedules", "none")
    assert cluster.requests.count(verb="list", resource="schedules") == 2
    assert cluster.requests.snapshot() == {("list", "schedules"): 2, ("get", "schedules"): 1}
    counts = http.request("GET", "/debug/testcluster/requests").json()
    assert counts["total"] == 3
    http.request("DELETE", "/debug/testcluster/requests")
    assert cluster.requests.count() == 0
    added = http.request("POST", "/debug/testcluster/faults", {"verb": "list", "status": 500, "times": 1})
    assert added.status == 201
    assert http.request("GET", "/apis/velero.io/v1/backups").status == 500
    assert http.request("GET", "/apis/velero.io/v1/backups").status == 200


def test_bodies_without_content_type_or_chunked_are_json(cluster, http) -> None:
    conn = http.connection()
    body = json.dumps({"metadata": {"name": "chunked"}, "data": {"k": "v"}}).encode()
    conn.request("POST", "/api/v1/namespaces/default/configmaps", body=iter([body[:10], body[10:]]),
                 headers={"Authorization": f"Bearer {cluster.token}"}, encode_chunked=True)
    answer = conn.getresponse()
    assert answer.status == 201 and json.loads(answer.read())["data"] == {"k": "v"}
    conn.close()


def test_a_watch_ends_when_its_client_goes_away(cluster, http) -> None:
    conn = http.connection()
    conn.request("GET", "/apis/velero.io/v1/namespaces/velero/backups?watch=true",
                 headers={"Authorization": f"Bearer {cluster.token}"})
    assert conn.getresponse().status == 200
    assert cluster.store.events.watcher_count == 1
    conn.close()
    deadline = time.monotonic() + 5
    while cluster.store.events.watcher_count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cluster.store.events.watcher_count == 0
