"""Schema validation of custom resources (422 with causes), structural pruning, and fieldValidation."""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

G, V, NS = "velero.io", "v1", "velero"


@pytest.fixture
def co(api_client) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def rejected(call, *args, **kwargs) -> tuple[int, dict]:
    with pytest.raises(ApiException) as err:
        call(*args, **kwargs)
    return err.value.status, json.loads(err.value.body)


def test_wrong_type_bad_enum_missing_required(co: client.CustomObjectsApi) -> None:
    bsl = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "broken"},
           "spec": {"accessMode": "Sometimes", "objectStorage": {"bucket": 7}}}
    code, status = rejected(co.create_namespaced_custom_object, G, V, NS, "backupstoragelocations", bsl)
    assert code == 422 and status["reason"] == "Invalid"
    assert status["details"]["kind"] == "BackupStorageLocation" and status["details"]["name"] == "broken"
    assert sorted(status["details"]["causes"], key=lambda c: c["field"]) == [
        {"reason": "FieldValueNotSupported", "field": "spec.accessMode",
         "message": 'Unsupported value: "Sometimes": supported values: "ReadOnly", "ReadWrite"'},
        {"reason": "FieldValueTypeInvalid", "field": "spec.objectStorage.bucket",
         "message": 'Invalid value: "integer": spec.objectStorage.bucket in body must be of type string: "integer"'},
        {"reason": "FieldValueRequired", "field": "spec.provider", "message": "Required value"},
    ]
    assert status["message"].startswith('BackupStorageLocation.velero.io "broken" is invalid: [')


def test_single_error_message_and_formats(co: client.CustomObjectsApi) -> None:
    bad = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "bad"},
           "spec": {"schedule": 5, "template": {}}}
    _, status = rejected(co.create_namespaced_custom_object, G, V, NS, "schedules", bad)
    assert status["message"] == ('Schedule.velero.io "bad" is invalid: spec.schedule: Invalid value: "integer": '
                                 'spec.schedule in body must be of type string: "integer"')
    backup = {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "b"},
              "status": {"startTimestamp": "yesterday"}}
    _, status = rejected(co.create_namespaced_custom_object, G, V, NS, "backups", backup)
    assert status["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "status.startTimestamp",
        "message": 'Invalid value: "yesterday": status.startTimestamp in body must be of type date-time: '
                   '"yesterday"'}]


def test_unknown_fields_are_pruned(co: client.CustomObjectsApi) -> None:
    obj = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "p", "shoeSize": 9},
           "spec": {"schedule": "0 1 * * *", "retention": "30d", "template": {"ttl": "1h0m0s", "color": "red"}},
           "extra": True}
    created = co.create_namespaced_custom_object(G, V, NS, "schedules", obj)
    assert created["spec"] == {"schedule": "0 1 * * *", "template": {"ttl": "1h0m0s"}}
    assert "extra" not in created and "shoeSize" not in created["metadata"]


def test_defaults_from_the_schema(co: client.CustomObjectsApi) -> None:
    bsl = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "d"},
           "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}, "credential": {"key": "cloud"}}}
    created = co.create_namespaced_custom_object(G, V, NS, "backupstoragelocations", bsl)
    assert created["spec"]["credential"] == {"key": "cloud", "name": ""}


def test_field_validation_strict_and_warn(co: client.CustomObjectsApi, http) -> None:
    obj = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "s"},
           "spec": {"schedule": "0 1 * * *", "retention": 5, "template": {}}}
    code, status = rejected(co.create_namespaced_custom_object, G, V, NS, "schedules", obj,
                            field_validation="Strict")
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"] == ('Schedule in version "v1" cannot be handled as a Schedule: strict decoding error: '
                                 'unknown field "spec.retention"')
    answer = http.request("POST", "/apis/velero.io/v1/namespaces/velero/schedules?fieldValidation=Warn", obj)
    assert answer.status == 201
    assert answer.headers.get_all("Warning") == ['299 - "unknown field \\"spec.retention\\""']
    assert "retention" not in answer.json()["spec"]
    quiet = http.request("PATCH", "/apis/velero.io/v1/namespaces/velero/schedules/s?fieldValidation=Ignore",
                         {"spec": {"other": 1}}, headers={"Content-Type": "application/merge-patch+json"})
    assert quiet.status == 200 and quiet.headers.get_all("Warning") is None


def test_builtin_type_errors_are_decoding_errors(api_client, http) -> None:
    core = client.CoreV1Api(api_client)
    code, status = rejected(core.create_namespaced_secret, "velero", {"metadata": {"name": "s"},
                                                                      "data": {"k": "not base64!"}})
    assert code == 400 and status["message"].startswith(
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte')
    leases = client.CoordinationV1Api(api_client)
    answer = http.request("POST", "/apis/coordination.k8s.io/v1/namespaces/velero/leases",
                          {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": "long"}})
    assert answer.status == 400 and answer.json()["message"] == (
        'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal string into Go struct field '
        "LeaseSpec.spec.leaseDurationSeconds of type int32")
    code, status = rejected(leases.create_namespaced_lease, "velero",
                            {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.leaseDurationSeconds"
