"""LIST paging and selectors, watch streams (resourceVersion replay, 410, timeouts), Table output."""
from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

G, V, NS = "velero.io", "v1", "velero"
BACKUPS = ("velero.io", "v1", "backups")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


@pytest.fixture
def co(api_client) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def add_backups(cluster, count: int, labels=lambda i: {"n": str(i % 3)}) -> None:
    for i in range(count):
        cluster.store.create(BACKUPS, NS, {"metadata": {"name": f"b-{i:03d}", "labels": labels(i)}, "spec": {}})


def test_limit_and_continue_page_through_a_consistent_snapshot(co, cluster) -> None:
    add_backups(cluster, 25)
    first = co.list_namespaced_custom_object(G, V, NS, "backups", limit=10)
    assert [i["metadata"]["name"] for i in first["items"]] == [f"b-{i:03d}" for i in range(10)]
    assert first["metadata"]["remainingItemCount"] == 15 and first["metadata"]["continue"]
    cluster.store.create(BACKUPS, NS, {"metadata": {"name": "b-0105"}, "spec": {}})  # after the first page
    names, token = [], first["metadata"]["continue"]
    while token:
        page = co.list_namespaced_custom_object(G, V, NS, "backups", limit=10, _continue=token)
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert names == [f"b-{i:03d}" for i in range(10, 25)]
    with pytest.raises(ApiException) as err:
        co.list_namespaced_custom_object(G, V, NS, "backups", limit=10, _continue="garbage")
    assert err.value.status == 400


def test_label_and_field_selectors(co, cluster) -> None:
    add_backups(cluster, 9)
    def names(**kwargs) -> list[str]:
        return [i["metadata"]["name"] for i in co.list_namespaced_custom_object(G, V, NS, "backups", **kwargs)["items"]]
    assert names(label_selector="n=1") == ["b-001", "b-004", "b-007"]
    assert names(label_selector="n in (0,2),n!=2") == ["b-000", "b-003", "b-006"]
    assert names(label_selector="!n") == []
    assert names(field_selector="metadata.name=b-005") == ["b-005"]
    assert names(field_selector="metadata.name!=b-005", label_selector="n=2") == ["b-002", "b-008"]
    with pytest.raises(ApiException) as err:
        names(field_selector="spec.ttl=1h")
    assert err.value.status == 400
    everywhere = co.list_cluster_custom_object(G, V, "backups", label_selector="n=0")
    assert len(everywhere["items"]) == 3


def test_watch_replays_from_a_resource_version_then_streams(co, cluster) -> None:
    add_backups(cluster, 2)
    rv = co.list_namespaced_custom_object(G, V, NS, "backups")["metadata"]["resourceVersion"]
    cluster.store.patch_status(BACKUPS, NS, "b-000", {"phase": "InProgress"})
    cluster.store.delete(BACKUPS, NS, "b-001")

    def later() -> None:
        time.sleep(0.3)
        cluster.store.patch_status(BACKUPS, NS, "b-000", {"phase": "Completed"})
    threading.Thread(target=later).start()
    events = []
    for event in watch.Watch().stream(co.list_namespaced_custom_object, G, V, NS, "backups",
                                      resource_version=rv, timeout_seconds=2):
        obj = event["object"]
        events.append((event["type"], obj["metadata"]["name"], (obj.get("status") or {}).get("phase")))
        assert int(obj["metadata"]["resourceVersion"]) > int(rv)
        if len(events) == 3:
            break
    assert events == [("MODIFIED", "b-000", "InProgress"), ("DELETED", "b-001", None),
                      ("MODIFIED", "b-000", "Completed")]


def test_watch_without_resource_version_starts_with_added_and_ends_at_timeout(http, cluster) -> None:
    add_backups(cluster, 2)
    started = time.monotonic()
    answer = http.request("GET", "/apis/velero.io/v1/namespaces/velero/backups?watch=true&timeoutSeconds=1")
    assert 0.9 < time.monotonic() - started < 5
    assert answer.headers["Transfer-Encoding"] == "chunked"
    lines = [json.loads(line) for line in answer.body.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "b-000"), ("ADDED", "b-001")]


def test_watch_selection_changes_are_added_and_deleted(http, cluster) -> None:
    add_backups(cluster, 1)
    rv = cluster.store.resource_version
    cluster.store.replace(BACKUPS, NS, "b-000", {**cluster.store.get(BACKUPS, NS, "b-000"),
                                                  "metadata": {"name": "b-000", "labels": {"n": "1"}}})
    cluster.store.replace(BACKUPS, NS, "b-000", {**cluster.store.get(BACKUPS, NS, "b-000"),
                                                  "metadata": {"name": "b-000", "labels": {"n": "0"}}})
    answer = http.request("GET", "/apis/velero.io/v1/namespaces/velero/backups?watch=1&labelSelector=n%3D0"
                                 f"&resourceVersion={rv}&timeoutSeconds=1")
    assert [json.loads(line)["type"] for line in answer.body.splitlines()] == ["DELETED", "ADDED"]


def test_watch_from_a_compacted_resource_version_is_gone(co, cluster) -> None:
    cluster.store.events.size = 5  # compact aggressively for this test
    add_backups(cluster, 10)
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(co.list_namespaced_custom_object, G, V, NS, "backups",
                                      resource_version="1", timeout_seconds=1):
            pass
    assert err.value.status == 410


def test_table_output_uses_printer_columns(http, cluster) -> None:
    cluster.store.create(("velero.io", "v1", "backupstoragelocations"), NS, {
        "metadata": {"name": "default"}, "spec": {"provider": "aws", "objectStorage": {"bucket": "b"},
                                                  "default": True}, "status": {"phase": "Available"}})
    cluster.clock.advance(300)
    answer = http.request("GET", "/apis/velero.io/v1/namespaces/velero/backupstoragelocations?limit=500",
                          headers={"Accept": TABLE})
    table = answer.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Phase", "Last Validated", "Age", "Default"]
    assert table["rows"][0]["cells"] == ["default", "Available", None, "5m", True]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    plain = http.request("GET", "/apis/velero.io/v1/namespaces/velero/backupstoragelocations")
    assert plain.json()["kind"] == "BackupStorageLocationList"
