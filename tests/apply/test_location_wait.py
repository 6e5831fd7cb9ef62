"""What the wait for a written location makes of Velero's answers (engine/apply/waits.py location_check)."""
from __future__ import annotations

import pytest

from engine.addr import Address
from engine.apply.waits import Pending, Ready, WaitFailed, location_check

ADDR = Address("BackupStorageLocation", "velero", "primary")


def _bsl(phase, message="", validated="2026-12-04T18:00:05Z", credential="snapplan-primary-credentials"):
    spec = {"provider": "aws", **({"credential": {"name": credential, "key": "cloud"}} if credential else {})}
    return {"kind": "BackupStorageLocation", "metadata": {"name": "primary"}, "spec": spec,
            "status": {"phase": phase, "message": message, "lastValidationTime": validated}}


def test_velero_not_having_seen_our_new_secret_yet_is_not_final():
    # velero 1.17.1 (internal/credentials/secret_store.go Get) when its informer cache lags the Secret this
    # apply just created; seen against a real kube-apiserver (tests/conformance/RESULTS.md)
    check = location_check(ADDR, "2026-12-04T18:00:00Z")
    for message in ('unable to get credentials: unable to get key for secret: '
                    'Secret "snapplan-primary-credentials" not found',
                    'unable to get key for secret: secrets "snapplan-primary-credentials" not found'):
        answer = check(_bsl("Unavailable", message))
        assert isinstance(answer, Pending) and "next pass" in answer.text
    assert isinstance(check(_bsl("Available")), Ready)


@pytest.mark.parametrize("message", [
    'unable to get credentials: Secret "someone-elses" not found',  # not the location's own Secret
    "rpc error: code = Unknown desc = AccessDenied: Access Denied",
])
def test_other_unavailable_answers_fail_the_wait_with_velero_s_message(message):
    with pytest.raises(WaitFailed, match="Unavailable: " + message.split(":")[0]):
        location_check(ADDR, None)(_bsl("Unavailable", message))


def test_a_location_without_a_credential_secret_fails_on_a_missing_secret():
    with pytest.raises(WaitFailed):
        location_check(ADDR, None)(_bsl("Unavailable", 'Secret "x" not found', credential=None))
