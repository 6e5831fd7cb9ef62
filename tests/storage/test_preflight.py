"""check_storage against moto with IAM auth on: each failure is one message naming the storage and the fix."""
from __future__ import annotations

import json
import time

import pytest
import yaml

from engine.errors import SnapplanError
from engine.spec import load_policy
from engine.storage import Status, check_storage
from engine.storage.preflight import velero_layout_error
from tests.cluster.s3 import MotoS3, S3Credentials, unreachable_endpoint
from tests.cluster.velero_sim.testing import sim_cluster  # noqa: F401  (fixture)
from tests.helpers import write

PROBE_DENIED = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}]}
NO_DELETE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"], "Resource": "*"}]}


def load(tmp_path, storage: dict, env: dict | None = None):
    doc = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"}, "storage": storage}
    return load_policy(write(tmp_path / "policy.yaml", yaml.safe_dump(doc)), env=env or {})[0]


def compat(s3: MotoS3, tmp_path, creds: S3Credentials | None = None, bucket="velero", **extra) -> dict:
    """An s3-compatible storage entry on the moto server, credentials in a file next to the policy."""
    entry = {"type": "s3-compatible", "bucket": bucket, "endpoint": s3.url, **extra}
    if creds is not None:
        write(tmp_path / "creds", creds.shared_credentials_file())
        entry["credentials"] = {"file": "./creds"}
    return entry


def check(tmp_path, storage: dict, env=None, **options):
    reports = check_storage(load(tmp_path, storage, env), env or {}, **options)
    return {r.storage: r for r in reports}


def statuses(report) -> dict[str, str]:
    return {c.name: c.status.value for c in report.checks}


def message(report, name: str) -> str:
    return report.check(name).message


def test_good_bucket_passes_every_check_and_leaves_nothing_behind(s3, tmp_path):
    s3.create_bucket("velero")
    s3.put_object("velero", "prod/backups/b1/velero-backup.json", json.dumps(
        {"kind": "Backup", "metadata": {"name": "b1"}, "status": {"phase": "Completed",
                                                                  "startTimestamp": "2026-11-20T03:00:00Z"}}))
    r = check(tmp_path, {"main": compat(s3, tmp_path, s3.create_credentials(), prefix="prod")})["main"]
    assert not r.failed and r.failures == ()
    assert statuses(r) == {"endpoint": "ok", "credentials": "ok", "bucket": "ok", "region": "ok", "layout": "ok",
                           "write-probe": "ok", "versioning": "info", "object-lock": "info", "backups": "ok"}
    assert message(r, "endpoint") == f"{s3.url} answers"
    assert message(r, "credentials") == f"accepted: file {tmp_path / 'creds'} [default]"
    assert message(r, "layout") == "s3://velero/prod/ holds only Velero's folders (backups)"
    assert message(r, "write-probe").startswith("wrote and deleted prod/.snapplan-probe-")
    assert message(r, "versioning") == "off (never enabled)"
    assert message(r, "object-lock") == "off"
    assert s3.keys("velero") == ["prod/backups/b1/velero-backup.json"]  # the probe is gone
    assert r.backups.count == 1 and r.backups.unknown_to_cluster is None
    assert (r.backups.newest.name, r.backups.newest.time) == ("b1", "2026-11-20T03:00:00Z")


def test_missing_bucket_is_one_failure_with_the_fix(s3, tmp_path):
    r = check(tmp_path, {"main": compat(s3, tmp_path, s3.create_credentials(), bucket="nope")})["main"]
    assert statuses(r) == {"endpoint": "ok", "credentials": "ok", "bucket": "failed"}
    assert r.failures == (f"storage.main: bucket 'nope' does not exist at {s3.url} (NoSuchBucket): "
                          "create it on the server or fix `bucket`",)


def test_missing_aws_bucket_names_the_create_command(s3, tmp_path):
    creds = s3.create_credentials()
    env = {"AWS_ENDPOINT_URL_S3": s3.url, "ID": creds.access_key_id, "SECRET": creds.secret_access_key}
    storage = {"type": "aws", "bucket": "nope", "region": "eu-west-1",
               "credentials": {"env": {"accessKeyId": "ID", "secretAccessKey": "SECRET"}}}
    r = check(tmp_path, {"primary": storage}, env)["primary"]
    assert r.failures == (f"storage.primary: bucket 'nope' does not exist at {s3.url} (NoSuchBucket): create it "
                          "(aws s3 mb s3://nope --region eu-west-1) or fix `bucket`",)
    assert message(r, "credentials") == "accepted: env ID/SECRET"


@pytest.mark.parametrize("which, expected", [
    ("unknown key", "the access key AKIA…0000 is not known to {url} (InvalidAccessKeyId): "
                    "fix the access key id in file {creds} [default]"),
    ("wrong secret", "the secret key does not belong to access key {key} (SignatureDoesNotMatch): "
                     "fix the secret access key in file {creds} [default]"),
    ("no permissions", "access denied listing s3://velero/ (AccessDenied) with file {creds} [default]: allow "
                       "s3:ListBucket on arn:aws:s3:::velero for these credentials (and check that no bucket "
                       "policy denies it)"),
])
def test_bad_credentials(s3, tmp_path, which, expected):
    s3.create_bucket("velero")
    good = s3.create_credentials()
    creds = {"unknown key": S3Credentials("AKIAUNKNOWN000000000", "x" * 40),
             "wrong secret": good.with_secret("not-the-secret"),
             "no permissions": s3.create_credentials_without_permissions()}[which]
    r = check(tmp_path, {"main": compat(s3, tmp_path, creds)})["main"]
    assert statuses(r) == {"endpoint": "ok", "credentials": "failed"}
    key = f"{good.access_key_id[:4]}…{good.access_key_id[-4:]}"
    assert r.failures == ("storage.main: " + expected.format(url=s3.url, creds=tmp_path / "creds", key=key),)


def test_wrong_region_names_the_bucket_region(s3, tmp_path):
    s3.create_bucket("velero", region="eu-west-1")
    creds = s3.create_credentials()
    write(tmp_path / "creds", creds.shared_credentials_file())
    env = {"AWS_ENDPOINT_URL_S3": s3.url}
    storage = {"type": "aws", "bucket": "velero", "region": "us-east-1", "credentials": {"file": "./creds"}}
    r = check(tmp_path, {"primary": storage}, env)["primary"]
    assert r.failures == ("storage.primary: bucket 'velero' is in region eu-west-1, not us-east-1: set "
                          "`region: eu-west-1` (Velero signs for the configured region and would be refused)",)
    assert statuses(r)["region"] == "failed"
    storage["region"] = "eu-west-1"
    r = check(tmp_path, {"primary": storage}, env)["primary"]
    assert not r.failed and message(r, "region") == "eu-west-1"


def test_region_of_s3_compatible_server_is_reported_not_failed(s3, tmp_path):
    s3.create_bucket("velero")
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(), region="minio")})["m"]
    assert not r.failed
    assert message(r, "region") == "the server reports us-east-1 for the bucket and accepts requests signed for minio"


def test_foreign_top_level_folder_is_the_error_velero_would_raise(s3, tmp_path):
    s3.create_bucket("velero")
    for key in ("prod/backups/b/velero-backup.json", "prod/data/x", "prod/restic/r", "prod/notes.txt"):
        s3.put_object("velero", key, "{}")
    r = check(tmp_path, {"main": compat(s3, tmp_path, s3.create_credentials(), prefix="prod")})["main"]
    assert r.failures == ('storage.main: s3://velero/prod/ holds folders that are not Velero\'s: data. Velero marks '
                          'the location Unavailable with "Backup store contains invalid top-level directories: '
                          '[data]": move them elsewhere or give this storage its own `prefix`',)
    assert statuses(r)["backups"] == "ok"  # the other checks still ran


def test_layout_message_matches_velero_format():
    assert velero_layout_error(["a", "b"]) == "Backup store contains invalid top-level directories: [a b]"
    assert velero_layout_error(["a", "b", "c", "d", "e"]) == \
        "Backup store contains 5 invalid top-level directories: [a b c ...]"


def test_layout_message_is_the_one_the_velero_simulator_reports(sim_cluster, tmp_path):
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.s3.put_object("velero", "prod/data/x", "1")
    creds = c.s3.create_credentials()
    c.add_credentials("creds", creds)
    c.add_location("default", "velero", "creds", prefix="prod")
    c.sim.step()
    bsl = c.status(("velero.io", "v1", "backupstoragelocations"), "default")
    r = check(tmp_path, {"default": compat(c.s3, tmp_path, creds, prefix="prod")})["default"]
    assert bsl["phase"] == "Unavailable"
    assert velero_layout_error(["data"]) in bsl["message"]
    assert velero_layout_error(["data"]) in message(r, "layout")


def test_backups_unknown_to_the_cluster_and_the_newest_by_start_time(s3, tmp_path):
    s3.create_bucket("velero")
    started = {"nightly-20261122": "2026-11-22T02:00:00Z", "manual-x": "2026-11-24T09:30:00Z",
               "nightly-20261123": "2026-11-23T02:00:00Z"}
    for name, start in started.items():  # written in another order than they started
        s3.put_object("velero", f"backups/{name}/velero-backup.json", json.dumps(
            {"kind": "Backup", "metadata": {"name": name, "creationTimestamp": start},
             "status": {"phase": "Completed", "startTimestamp": start}}))
        s3.put_object("velero", f"backups/{name}/{name}.tar.gz", b"x")
    s3.put_object("velero", "backups/half-deleted/half-deleted-logs.gz", b"x")
    r = check(tmp_path, {"main": compat(s3, tmp_path, s3.create_credentials())},
              cluster_backups={"nightly-20261122", "gone-from-bucket"})["main"]
    b = r.backups
    assert (b.count, b.newest.name, b.newest.time, b.newest.phase) == \
        (3, "manual-x", "2026-11-24T09:30:00Z", "Completed")
    assert b.unknown_to_cluster == ("manual-x", "nightly-20261123")
    assert b.without_metadata == ("half-deleted",)
    assert message(r, "backups") == (
        "3, newest manual-x (2026-11-24T09:30:00Z, Completed); 2 not in the cluster yet (manual-x, nightly-20261123): "
        "Velero syncs them in once the location is Available; 1 folder(s) without velero-backup.json, which Velero "
        "ignores (half-deleted)")


def test_backups_written_by_velero_are_counted_and_the_newest_found(sim_cluster, tmp_path):
    from datetime import timedelta

    from tests.cluster.velero_sim import objects

    c = sim_cluster
    c.s3.create_bucket("velero")
    creds = c.s3.create_credentials()
    c.add_credentials("creds", creds)
    c.add_location("default", "velero", "creds", default=True, prefix="prod")
    c.create(("velero.io", "v1", "schedules"), objects.schedule("daily", "0 3 * * *"))
    c.run(timedelta(days=3))
    made = c.names(("velero.io", "v1", "backups"))
    assert len(made) == 3
    r = check(tmp_path, {"default": compat(c.s3, tmp_path, creds, prefix="prod")},
              cluster_backups=set(made[:2]))["default"]
    assert not r.failed
    assert (r.backups.count, r.backups.newest.name, r.backups.newest.phase) == (3, made[-1], "Completed")
    assert r.backups.newest.time == c.status(("velero.io", "v1", "backups"), made[-1])["startTimestamp"]
    assert r.backups.unknown_to_cluster == (made[-1],)


def test_endpoint_down_fails_fast_with_one_message(s3, tmp_path):
    url = unreachable_endpoint()
    storage = {"type": "s3-compatible", "bucket": "velero", "endpoint": url,
               "credentials": {"env": {"accessKeyId": "ID", "secretAccessKey": "SECRET"}}}
    started = time.monotonic()
    r = check(tmp_path, {"m": storage}, {"ID": "AKIAEXAMPLE", "SECRET": "s"})["m"]
    assert time.monotonic() - started < 5
    assert r.failures == (f"storage.m: cannot reach {url} ([Errno 111] Connection refused): check `endpoint`; "
                          "Velero's pod must reach it too",)
    assert statuses(r) == {"endpoint": "failed"}


def test_write_probe_denied_by_iam_policy(s3, tmp_path):
    s3.create_bucket("velero")
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(policy=PROBE_DENIED), prefix="a/b")})["m"]
    assert r.failures == (f"storage.m: access denied writing under s3://velero/a/b/ (AccessDenied) with file "
                          f"{tmp_path / 'creds'} [default]: allow s3:PutObject on arn:aws:s3:::velero/a/b/* for "
                          "these credentials (and check that no bucket policy denies it)",)
    assert statuses(r)["credentials"] == "ok" and statuses(r)["backups"] == "ok"
    assert message(r, "versioning") == "unknown (AccessDenied; reading it needs s3:GetBucketVersioning)"


def test_write_probe_denied_by_bucket_policy_and_skipped_on_request(s3, tmp_path):
    s3.create_bucket("velero")
    s3.client("s3").put_bucket_policy(Bucket="velero", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::velero/*"}]}))
    storage = {"m": compat(s3, tmp_path, s3.create_credentials())}
    r = check(tmp_path, storage)["m"]
    assert statuses(r)["write-probe"] == "failed"
    assert "access denied writing under s3://velero/ (403)" in r.failures[0]
    r = check(tmp_path, storage, write_probe=False)["m"]
    assert not r.failed and message(r, "write-probe") == "skipped (--no-write-probe)"


def test_probe_that_cannot_be_deleted_is_named(s3, tmp_path):
    s3.create_bucket("velero")
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(policy=NO_DELETE))})["m"]
    [left] = s3.keys("velero")
    assert r.failures == (f"storage.m: wrote {left} but could not delete it: access denied deleting under "
                          f"s3://velero/ (AccessDenied) with file {tmp_path / 'creds'} [default]: allow "
                          "s3:DeleteObject on arn:aws:s3:::velero/* for these credentials (and check that no "
                          "bucket policy denies it)",)
    assert left.startswith(".snapplan-probe-")


def test_read_only_storage_is_not_written(s3, tmp_path):
    s3.create_bucket("velero")
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(policy=PROBE_DENIED),
                                     accessMode="ReadOnly")})["m"]
    assert not r.failed
    assert message(r, "write-probe") == "skipped: accessMode ReadOnly, Velero will not write here"


def test_versioning_and_object_lock_are_reported_and_the_probe_version_removed(s3, tmp_path):
    admin = s3.client("s3")
    admin.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    admin.put_object_lock_configuration(Bucket="locked", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 7}}})
    s3.create_bucket("versioned")
    admin.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    creds = s3.create_credentials()
    reports = check(tmp_path, {"l": compat(s3, tmp_path, creds, bucket="locked"),
                               "v": compat(s3, tmp_path, creds, bucket="versioned")})
    assert message(reports["l"], "object-lock") == "on, default retention GOVERNANCE 7 day(s)"
    assert message(reports["l"], "versioning") == "enabled"
    assert message(reports["v"], "versioning") == "enabled"
    assert message(reports["v"], "object-lock") == "off"
    assert not reports["v"].failed
    versions = admin.list_object_versions(Bucket="versioned")
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []


def test_secret_ref_falls_back_to_the_aws_chain_and_says_so(s3, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    storage = {"m": {**compat(s3, tmp_path), "credentials": {"secretRef": {"name": "cloud-credentials"}}}}
    env = {"AWS_ACCESS_KEY_ID": creds.access_key_id, "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    r = check(tmp_path, storage, env)["m"]
    assert not r.failed
    assert message(r, "credentials") == ("accepted: the AWS credential chain (secretRef cloud-credentials/cloud is "
                                         "in the cluster and cannot be read from here): found by env")
    env = {k: v for k, v in env.items() if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")}
    r = check(tmp_path, storage, env)["m"]
    assert statuses(r) == {"credentials": "failed"}
    assert "the chain found none; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" in r.failures[0]


def test_unreadable_credential_sources_fail_the_credentials_check(s3, tmp_path):
    env_storage = {"type": "s3-compatible", "bucket": "velero", "endpoint": s3.url,
                   "credentials": {"env": {"accessKeyId": "NOPE_ID", "secretAccessKey": "NOPE_KEY"}}}
    write(tmp_path / "creds", "[other]\naws_access_key_id=a\naws_secret_access_key=b\n")
    reports = check(tmp_path, {"e": env_storage, "f": compat(s3, tmp_path, bucket="b-f") | {"credentials": {"file": "./creds"}},
                               "g": compat(s3, tmp_path, bucket="b-g") | {"credentials": {"file": "./missing"}}})
    assert reports["e"].failures == ("storage.e: environment variable NOPE_ID is not set: fix "
                                     "credentials.env.accessKeyId",)
    assert reports["f"].failures == (f"storage.f: credentials file {tmp_path / 'creds'} has no [default] section "
                                     "with aws_access_key_id and aws_secret_access_key, which is what Velero's aws "
                                     "plugin reads: add them (or set config.profile to the profile that has them)",)
    assert reports["g"].failures[0].startswith(f"storage.g: cannot read credentials file '{tmp_path / 'missing'}'")


def test_config_profile_picks_the_credentials_file_section(s3, tmp_path):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAWRONG0000000000\naws_secret_access_key=x\n"
          + creds.shared_credentials_file("backup"))
    storage = compat(s3, tmp_path) | {"credentials": {"file": "./creds"}, "config": {"profile": "backup"}}
    r = check(tmp_path, {"m": storage})["m"]
    assert not r.failed and message(r, "credentials") == f"accepted: file {tmp_path / 'creds'} [backup]"


def test_tls_needs_the_ca_that_signed_the_endpoint(s3, tls_s3, tmp_path):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    storage = compat(s3, tmp_path, creds) | {"endpoint": tls_s3.url}
    right, wrong = tmp_path / "right-ca.pem", tmp_path / "wrong-ca.pem"  # a policy reads files in its own tree
    right.write_bytes(tls_s3.ca_file.read_bytes())
    wrong.write_bytes(tls_s3.other_ca_file.read_bytes())
    reports = check(tmp_path, {"system-cas": storage | {"prefix": "a"},
                               "right-ca": storage | {"caFile": str(right), "prefix": "b"},
                               "wrong-ca": storage | {"caFile": str(wrong), "prefix": "c"},
                               "plain": compat(s3, tmp_path, creds) | {"endpoint": tls_s3.url.replace("https", "http")}})
    assert not reports["right-ca"].failed and message(reports["right-ca"], "endpoint") == f"{tls_s3.url} answers"
    assert reports["system-cas"].failures == (
        f"storage.system-cas: TLS to {tls_s3.url} failed (certificate verify failed: unable to get local issuer "
        "certificate): set `caFile` to the CA certificate that signed the server's certificate",)
    assert reports["wrong-ca"].failures == (
        f"storage.wrong-ca: TLS to {tls_s3.url} failed with caFile {wrong} (certificate verify "
        "failed: unable to get local issuer certificate): set `caFile` to the CA certificate that signed the "
        "server's certificate",)
    assert statuses(reports["plain"]) == {"endpoint": "failed"}
    insecure = storage | {"prefix": "d", "config": {"insecureSkipTLSVerify": "true"}}
    assert not check(tmp_path, {"insecure": insecure})["insecure"].failed


def test_tls_endpoint_that_speaks_plain_http(s3, tmp_path):
    s3.create_bucket("velero")
    storage = compat(s3, tmp_path, s3.create_credentials()) | {"endpoint": s3.url.replace("http", "https")}
    r = check(tmp_path, {"m": storage})["m"]
    assert r.failures[0].startswith(f"storage.m: {storage['endpoint']} does not speak TLS (")
    assert r.failures[0].endswith("): use http:// in `endpoint`, or the server's TLS port")


def test_other_storage_types_are_left_to_velero_and_names_select(s3, tmp_path):
    s3.create_bucket("velero")
    storage = {"box": {"type": "hostpath", "path": "/x"}, "g": {"type": "gcp", "bucket": "gcs-bucket"},
               "m": compat(s3, tmp_path, s3.create_credentials())}
    policy = load(tmp_path, storage)
    reports = check_storage(policy, {})
    assert [r.storage for r in reports] == ["box", "g", "m"]
    assert [(c.status, c.message) for c in reports[0].checks] == \
        [(Status.NOT_CHECKED, "not checked: hostpath storage is checked by Velero")]
    assert reports[1].checks[0].message == "not checked: gcp storage is checked by Velero"
    assert not any(r.failed for r in reports)
    assert [r.storage for r in check_storage(policy, {}, names=["m"])] == ["m"]
    with pytest.raises(SnapplanError, match=r"no storage named 'x' in the policy \(known: box, g, m\)"):
        check_storage(policy, {}, names=["x"])


def test_full_s3_permission_user_is_what_velero_needs(s3, tmp_path):
    """The minimal policy Velero's docs give (no GetBucketLocation, no HeadBucket of its own) passes."""
    s3.create_bucket("velero")
    velero_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject", "s3:PutObject",
                                       "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": "arn:aws:s3:::velero/*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::velero"}]}
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(policy=velero_policy))})["m"]
    assert not r.failed, r.failures
    assert statuses(r)["write-probe"] == "ok"
