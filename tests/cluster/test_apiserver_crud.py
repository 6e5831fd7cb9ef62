"""The test API server against the official kubernetes client: CRUD, conflicts, generation, dry run, delete."""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

G, V, NS = "velero.io", "v1", "velero"


def schedule(name: str, cron: str = "0 3 * * *", **spec) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": name},
            "spec": {"schedule": cron, "template": {"ttl": "720h0m0s"}, **spec}}


@pytest.fixture
def co(api_client) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def status_of(err: ApiException) -> dict:
    return json.loads(err.body)


def test_create_get_list_replace_delete(co: client.CustomObjectsApi) -> None:
    created = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("nightly"))
    meta = created["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"] == "2026-11-24T00:00:00Z"
    assert co.get_namespaced_custom_object(G, V, NS, "schedules", "nightly") == created

    listed = co.list_namespaced_custom_object(G, V, NS, "schedules")
    assert listed["kind"] == "ScheduleList" and [i["metadata"]["name"] for i in listed["items"]] == ["nightly"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])

    created["spec"]["schedule"] = "0 4 * * *"
    replaced = co.replace_namespaced_custom_object(G, V, NS, "schedules", "nightly", created)
    assert replaced["metadata"]["generation"] == 2
    assert int(replaced["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])

    deleted = co.delete_namespaced_custom_object(G, V, NS, "schedules", "nightly")
    assert deleted["metadata"]["name"] == "nightly"  # custom resources answer with the deleted object
    with pytest.raises(ApiException) as err:
        co.get_namespaced_custom_object(G, V, NS, "schedules", "nightly")
    assert err.value.status == 404
    assert status_of(err.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'schedules.velero.io "nightly" not found', "reason": "NotFound",
        "details": {"name": "nightly", "group": "velero.io", "kind": "schedules"}, "code": 404}


def test_already_exists_and_stale_resource_version(co: client.CustomObjectsApi) -> None:
    first = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("py"))
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("py"))
    assert err.value.status == 409 and status_of(err.value)["reason"] == "AlreadyExists"
    assert status_of(err.value)["message"] == 'schedules.velero.io "py" already exists'

    co.patch_namespaced_custom_object(G, V, NS, "schedules", "py", {"spec": {"paused": True}})
    stale = dict(first, spec={**first["spec"], "schedule": "1 1 * * *"})
    with pytest.raises(ApiException) as err:
        co.replace_namespaced_custom_object(G, V, NS, "schedules", "py", stale)
    assert err.value.status == 409
    assert status_of(err.value)["message"] == (
        'Operation cannot be fulfilled on schedules.velero.io "py": the object has been modified; '
        "please apply your changes to the latest version and try again")


def test_no_op_writes_keep_resource_version_and_generation(co: client.CustomObjectsApi, cluster) -> None:
    created = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("same"))
    replaced = co.replace_namespaced_custom_object(G, V, NS, "schedules", "same", created)
    patched = co.patch_namespaced_custom_object(G, V, NS, "schedules", "same", {"spec": {"schedule": "0 3 * * *"}})
    for obj in (replaced, patched):
        assert obj["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert obj["metadata"]["generation"] == 1
    labelled = co.patch_namespaced_custom_object(G, V, NS, "schedules", "same", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1  # metadata changes do not bump generation
    assert labelled["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]


def test_namespace_must_exist_and_names_must_be_valid(co: client.CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(G, V, "nowhere", "schedules", schedule("x"))
    assert err.value.status == 404 and status_of(err.value)["message"] == 'namespaces "nowhere" not found'
    copied = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("orig"))
    copied["metadata"]["name"] = "copy"
    with pytest.raises(ApiException) as err:  # a copied object still carrying its resourceVersion
        co.create_namespaced_custom_object(G, V, NS, "schedules", copied)
    assert err.value.status == 500
    assert status_of(err.value)["message"] == "resourceVersion should not be set on objects to be created"
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("Bad_Name"))
    body = status_of(err.value)
    assert err.value.status == 422 and body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["message"].startswith('Schedule.velero.io "Bad_Name" is invalid: metadata.name: Invalid value: '
                                      '"Bad_Name": a lowercase RFC 1123 subdomain')


def test_dry_run_writes_nothing(co: client.CustomObjectsApi) -> None:
    answer = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("dry"), dry_run="All")
    assert answer["metadata"]["name"] == "dry" and "resourceVersion" not in answer["metadata"]
    assert co.list_namespaced_custom_object(G, V, NS, "schedules")["items"] == []

    real = co.create_namespaced_custom_object(G, V, NS, "schedules", schedule("wet"))
    co.patch_namespaced_custom_object(G, V, NS, "schedules", "wet", {"spec": {"paused": True}}, dry_run="All")
    co.delete_namespaced_custom_object(G, V, NS, "schedules", "wet", dry_run="All")
    assert co.get_namespaced_custom_object(G, V, NS, "schedules", "wet") == real


def test_finalizers_hold_deletion_until_removed(co: client.CustomObjectsApi) -> None:
    obj = schedule("held")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    co.create_namespaced_custom_object(G, V, NS, "schedules", obj)
    pending = co.delete_namespaced_custom_object(G, V, NS, "schedules", "held")
    assert pending["metadata"]["deletionTimestamp"] and pending["metadata"]["generation"] == 2
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(G, V, NS, "schedules", "held",
                                          {"metadata": {"finalizers": ["example.com/hold", "x.io/new"]}})
    assert err.value.status == 422
    co.patch_namespaced_custom_object(G, V, NS, "schedules", "held", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        co.get_namespaced_custom_object(G, V, NS, "schedules", "held")
    assert err.value.status == 404


def test_secrets_configmaps_namespaces(api_client) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="app")))
    ns = core.read_namespace("app")
    assert ns.status.phase == "Active" and ns.metadata.labels == {"kubernetes.io/metadata.name": "app"}
    secret = core.create_namespaced_secret("app", {"metadata": {"name": "creds"}, "stringData": {"cloud": "key"}})
    assert secret.data == {"cloud": "a2V5"} and secret.type == "Opaque" and secret.metadata.generation is None
    status = core.delete_namespaced_secret("creds", "app")  # built-ins answer a Success Status
    assert status["status"] == "Success" and status["details"]["name"] == "creds"
    core.create_namespaced_config_map("app", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    core.delete_namespace("app")
    assert core.list_namespaced_config_map("app").items == []
    with pytest.raises(ApiException) as err:
        core.read_namespace("app")
    assert err.value.status == 404 and json.loads(err.value.body)["message"] == 'namespaces "app" not found'


def test_leases_parse_micro_time_like_kube(api_client) -> None:
    from datetime import datetime, timezone
    leases = client.CoordinationV1Api(api_client)
    body = {"metadata": {"name": "lock"}, "spec": {"holderIdentity": "me", "leaseDurationSeconds": 30,
                                                   "renewTime": "2026-11-24T00:00:00+00:00"}}
    with pytest.raises(ApiException) as err:
        leases.create_namespaced_lease("velero", body)
    assert err.value.status == 400 and 'cannot parse "+00:00" as ".000000"' in json.loads(err.value.body)["message"]
    spec = client.V1LeaseSpec(holder_identity="me", lease_duration_seconds=30,
                              renew_time=datetime(2026, 11, 24, 0, 0, 0, 123456, tzinfo=timezone.utc))
    lease = leases.create_namespaced_lease("velero", client.V1Lease(metadata=client.V1ObjectMeta(name="lock"),
                                                                    spec=spec))
    assert lease.spec.renew_time == spec.renew_time
    lease.spec.holder_identity = "you"
    assert leases.replace_namespaced_lease("lock", "velero", lease).spec.holder_identity == "you"
    lease.spec.holder_identity = "stale"
    with pytest.raises(ApiException) as err:
        leases.replace_namespaced_lease("lock", "velero", lease)
    assert err.value.status == 409
    patched = leases.patch_namespaced_lease("lock", "velero", {"spec": {"leaseTransitions": 2}})
    assert patched.spec.lease_transitions == 2 and patched.spec.holder_identity == "you"


def test_in_process_writes_meet_the_same_checks(cluster) -> None:
    from tests.cluster.apiserver import ApiError
    bsl = ("velero.io", "v1", "backupstoragelocations")
    store = cluster.store
    seen: list[tuple[str, str]] = []
    unsubscribe = store.subscribe(lambda event, gvr, obj: seen.append((event, obj["metadata"]["name"])))
    store.create(bsl, NS, {"metadata": {"name": "default"},
                           "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}}})
    with pytest.raises(ApiError) as err:
        store.patch_status(bsl, NS, "default", {"phase": "Ready"})
    assert err.value.code == 422 and "status.phase: Unsupported value" in err.value.message
    updated = store.patch_status(bsl, NS, "default", {"phase": "Available"})
    assert updated["status"] == {"phase": "Available"}
    assert updated["metadata"]["generation"] == 2  # Velero's CRDs have no status subresource
    store.delete(bsl, NS, "default")
    unsubscribe()
    store.create(bsl, NS, {"metadata": {"name": "later"}, "spec": {"provider": "aws",
                                                                   "objectStorage": {"bucket": "b"}}})
    assert seen == [("ADDED", "default"), ("MODIFIED", "default"), ("DELETED", "default")]
