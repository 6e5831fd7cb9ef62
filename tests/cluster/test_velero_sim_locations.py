"""BackupStorageLocations are checked against moto with their own config and credentials, and report
what Velero reports; backups to a location that is not usable fail as Velero's do."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.cluster.s3 import unreachable_endpoint
from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.testing import BACKUP, BSL, SECRET, SimCluster, sim_cluster  # noqa: F401

UNAVAILABLE = 'BackupStorageLocation "loc" is unavailable: '
LIST_FAILED = "rpc error: code = Unknown desc = operation error S3: ListObjectsV2, https response error StatusCode: "


def test_good_credentials_make_it_available(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero", region="eu-west-1")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("loc", "velero", "creds", region="eu-west-1", prefix="team-a")
    c.sim.step()
    status = c.status(BSL, "loc")
    assert status["phase"] == "Available"
    assert "message" not in status
    assert status["lastValidationTime"] == "2026-11-24T00:00:00Z"


@pytest.mark.parametrize("provider, phase", [("velero.io/aws", "Available"), ("aws", "Available"),
                                             ("gcp", "Unavailable")])
def test_provider_names_are_sanitised_as_velero_does(sim_cluster: SimCluster, provider: str, phase: str) -> None:
    """clientmgmt/manager.go sanitizeName: `aws` is `velero.io/aws`; a missing plugin is named in full."""
    c = sim_cluster
    c.s3.create_bucket("velero", region="eu-west-1")
    c.add_credentials("creds", c.s3.create_credentials())
    loc = objects.storage_location("loc", "velero", s3_url=c.s3.url, region="eu-west-1", credential=("creds", "cloud"))
    loc["spec"]["provider"] = provider
    if provider == "gcp":
        loc["spec"]["config"] = {}
    c.create(BSL, loc)
    c.sim.step()
    status = c.status(BSL, "loc")
    assert status["phase"] == phase
    if phase == "Unavailable":
        assert status["message"] == UNAVAILABLE + "unable to locate ObjectStore plugin named velero.io/gcp"


@pytest.mark.parametrize("case, expected", [
    ("wrong-secret", LIST_FAILED + "403, RequestID: "),
    ("no-permissions", LIST_FAILED + "403, RequestID: "),
    ("missing-bucket", LIST_FAILED + "404, RequestID: "),
    ("missing-secret", 'unable to get credentials: unable to get key for secret: secrets "creds" not found'),
    ("unreachable", "rpc error: code = Unknown desc = operation error S3: ListObjectsV2, exceeded maximum number "
                    "of attempts, 3, https response error StatusCode: 0"),
])
def test_unusable_location_is_unavailable_with_velero_message(sim_cluster: SimCluster, case: str,
                                                              expected: str) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    good = c.s3.create_credentials()
    creds = {"wrong-secret": good.with_secret("wrong"),
             "no-permissions": c.s3.create_credentials_without_permissions()}.get(case, good)
    if case != "missing-secret":
        c.add_credentials("creds", creds)
    bucket = "elsewhere" if case == "missing-bucket" else "velero"
    url = unreachable_endpoint() if case == "unreachable" else c.s3.url
    c.add_location("loc", bucket, "creds", s3_url=url)
    c.sim.step()
    status = c.status(BSL, "loc")
    assert status["phase"] == "Unavailable"
    assert status["message"].startswith(UNAVAILABLE + expected), status["message"]
    detail = {"wrong-secret": "api error SignatureDoesNotMatch: The request signature we calculated does not match",
              "no-permissions": "api error AccessDenied:",
              "missing-bucket": "NoSuchBucket: The specified bucket does not exist",
              "unreachable": "connect: connection refused"}.get(case, "")
    assert detail in status["message"]


def test_plugin_config_errors_and_aws_style_location(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero", region="eu-west-1")
    c.add_credentials("creds", c.s3.create_credentials())
    # No s3Url and no region: the plugin asks "AWS" (the simulator's S3 endpoint) for the bucket's region.
    c.add_location("aws", "velero", "creds", s3_url=None, region=None, path_style=False)
    c.add_location("custom-no-region", "velero", "creds", region=None)
    c.add_location("typo", "velero", "creds")
    loc = c.get(BSL, "typo")
    loc["spec"]["config"]["s3URL"] = "http://x"
    c.store.replace(BSL, "velero", "typo", loc)
    gcp = objects.storage_location("gcp", "velero", credential=("creds", "cloud"))
    gcp["spec"]["provider"] = "gcp"
    c.create(BSL, gcp)
    c.sim.step()
    assert c.status(BSL, "aws")["phase"] == "Available"
    assert c.status(BSL, "custom-no-region")["message"].endswith(
        "resolve auth scheme: resolve endpoint: endpoint rule error, Invalid region: region was not a valid DNS name.")
    assert "config has invalid keys [s3URL]; valid keys are [region s3Url " in c.status(BSL, "typo")["message"]
    assert c.status(BSL, "gcp")["message"] == (
        'BackupStorageLocation "gcp" is unavailable: unable to locate ObjectStore plugin named velero.io/gcp')


def test_backup_to_unavailable_location_fails_validation(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials().with_secret("wrong"))
    c.add_location("loc", "velero", "creds")
    c.sim.step()
    c.create(BACKUP, objects.backup("b1", storage_location="loc"))
    c.sim.step()
    status = c.status(BACKUP, "b1")
    assert status["phase"] == "FailedValidation"
    assert status["validationErrors"] == [
        "backup can't be created because BackupStorageLocation loc is in Unavailable status."]
    assert c.s3.keys("velero") == []


def test_backup_to_read_only_or_missing_location_fails_validation(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("ro", "velero", "creds", access_mode="ReadOnly")
    c.sim.step()
    assert c.status(BSL, "ro")["phase"] == "Available"
    c.create(BACKUP, objects.backup("b1", storage_location="ro"))
    c.create(BACKUP, objects.backup("b2", storage_location="gone"))
    c.sim.step()
    assert c.status(BACKUP, "b1")["validationErrors"] == [
        "backup can't be created because backup storage location ro is currently in read-only mode"]
    assert c.status(BACKUP, "b2")["phase"] == "FailedValidation"
    assert "the default gone does not exist" in c.status(BACKUP, "b2")["validationErrors"][0]


def test_upload_failure_fails_the_backup(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    creds = c.s3.create_credentials()
    c.add_credentials("creds", creds)
    c.add_location("loc", "velero", "creds", default=True)
    c.sim.step()
    c.create(BACKUP, objects.backup("b1"))
    c.sim.step()
    assert c.status(BACKUP, "b1")["phase"] == "InProgress"
    secret = c.get(SECRET, "creds")
    secret["data"]["cloud"] = base64.b64encode(creds.with_secret("rotated").shared_credentials_file().encode()).decode()
    c.store.replace(SECRET, "velero", "creds", secret)
    c.run(timedelta(seconds=30))
    status = c.status(BACKUP, "b1")
    assert status["phase"] == "Failed"
    assert status["failureReason"].startswith("rpc error: code = Unknown desc = operation error S3: PutObject, "
                                              "https response error StatusCode: 403")
    assert c.get(BACKUP, "b1")["spec"]["storageLocation"] == "loc"  # the default location was filled in


def test_progress_grows_while_in_progress(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("loc", "velero", "creds", default=True)
    c.create(BACKUP, objects.backup("b1"))
    seen = []
    for _ in range(12):
        c.sim.step()
        status = c.status(BACKUP, "b1")
        seen.append((status["phase"], status.get("progress", {}).get("itemsBackedUp")))
        c.clock.advance(1)
    phases = [p for p, _ in seen]
    assert phases[0] == "InProgress" and phases[-1] == "Completed"
    done = [n for p, n in seen if p == "InProgress"]
    assert done == sorted(done) and done[0] == 0 and len(set(done)) > 2


def test_revalidates_periodically_and_on_spec_change(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("loc", "missing", "creds")
    c.sim.step()
    assert c.status(BSL, "loc")["phase"] == "Unavailable"
    c.s3.create_bucket("missing")
    c.clock.advance(30)
    c.sim.step()
    assert c.status(BSL, "loc")["phase"] == "Unavailable"  # validated every minute, not sooner
    c.clock.advance(30)
    c.sim.step()
    assert c.status(BSL, "loc") | {"lastSyncedTime": None} == {
        "phase": "Available", "lastValidationTime": "2026-11-24T00:01:00Z", "lastSyncedTime": None}
    c.clock.advance(5)
    loc = c.get(BSL, "loc")
    loc["spec"]["objectStorage"]["bucket"] = "nope"
    c.store.replace(BSL, "velero", "loc", loc)
    c.sim.step()
    assert c.status(BSL, "loc")["phase"] == "Unavailable"  # a spec change is checked at once


def test_unexpected_top_level_directories_make_it_unavailable(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.s3.put_object("velero", "pre/backups/x/velero-backup.json", "{}")
    c.s3.put_object("velero", "pre/data/file", "x")
    c.add_location("loc", "velero", "creds", prefix="pre")
    c.add_location("root", "velero", "creds")
    c.sim.step()
    assert c.status(BSL, "loc")["message"] == (
        UNAVAILABLE + "Backup store contains invalid top-level directories: [data]")
    assert c.status(BSL, "root")["message"].endswith("invalid top-level directories: [pre]")


def test_only_one_default_location_survives(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("first", "velero", "creds", default=True, prefix="a")
    c.clock.advance(10)
    c.add_location("second", "velero", "creds", default=True, prefix="b")
    c.sim.step()
    assert c.get(BSL, "first")["spec"]["default"] is False
    assert c.get(BSL, "second")["spec"]["default"] is True


@pytest.mark.parametrize("config, message", [
    ({"insecureSkipTLSVerify": "yes"}, 'could not parse insecureSkipTLSVerify (expected bool): strconv.ParseBool: '
                                       'parsing "yes": invalid syntax'),
    ({"checksumAlgorithm": "MD5"}, "invalid checksum algorithm: MD5"),
])
def test_aws_plugin_init_refuses_what_it_cannot_parse(sim_cluster: SimCluster, config: dict, message: str) -> None:
    """velero-plugin-for-aws object_store.go Init: strconv.ParseBool and validChecksumAlg."""
    c = sim_cluster
    c.s3.create_bucket("velero", region="eu-west-1")
    c.add_credentials("creds", c.s3.create_credentials())
    loc = objects.storage_location("loc", "velero", s3_url=c.s3.url, region="eu-west-1", credential=("creds", "cloud"))
    loc["spec"]["config"].update(config)
    c.create(BSL, loc)
    c.sim.step()
    assert c.status(BSL, "loc")["message"].endswith(message)


@pytest.mark.parametrize("config", [{"insecureSkipTLSVerify": "T"}, {"checksumAlgorithm": ""},
                                    {"checksumAlgorithm": "SHA256"}])
def test_aws_plugin_init_accepts_go_bools_and_checksums(sim_cluster: SimCluster, config: dict) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero", region="eu-west-1")
    c.add_credentials("creds", c.s3.create_credentials())
    loc = objects.storage_location("loc", "velero", s3_url=c.s3.url, region="eu-west-1", credential=("creds", "cloud"))
    loc["spec"]["config"].update(config)
    c.create(BSL, loc)
    c.sim.step()
    assert c.status(BSL, "loc")["phase"] == "Available"
