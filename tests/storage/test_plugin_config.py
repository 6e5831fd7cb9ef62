"""`storage check` reads the aws plugin's config as the plugin does (velero-plugin-for-aws object_store.go
Init): insecureSkipTLSVerify through Go's strconv.ParseBool, checksumAlgorithm (CRC32 unless set, "" for
none, anything else refused), and credentials from the profile config.profile names, also for `env`."""
from __future__ import annotations

import pytest

from engine.model import build_desired
from engine.storage.access import AccessProblem, resolve_access
from tests.storage.test_preflight import check, compat, load, message, statuses


@pytest.mark.parametrize("value, verify", [("T", False), ("1", False), ("True", False), ("false", True),
                                           ("0", True), ("F", True)])
def test_insecure_skip_tls_verify_is_read_as_go_reads_a_bool(tmp_path, value, verify):
    policy = load(tmp_path, {"m": {"type": "s3-compatible", "bucket": "velero", "endpoint": "https://m:9000",
                                   "config": {"insecureSkipTLSVerify": value}}})
    assert resolve_access(policy.storage["m"], {}).verify is (False if not verify else True)


@pytest.mark.parametrize("config, problem", [
    ({"insecureSkipTLSVerify": "yes"}, "config.insecureSkipTLSVerify 'yes' is not a boolean as Go reads one"),
    ({"checksumAlgorithm": "MD5"}, "invalid checksum algorithm: MD5"),
])
def test_what_the_plugin_refuses_fails_the_check(s3, tmp_path, config, problem):
    s3.create_bucket("velero")
    r = check(tmp_path, {"m": compat(s3, tmp_path, s3.create_credentials(), config=config)})["m"]
    assert r.failed and statuses(r)["storage"] == "failed"
    assert message(r, "storage").startswith(problem)


@pytest.mark.parametrize("config, sent", [({}, "CRC32"), ({"checksumAlgorithm": ""}, None),
                                          ({"checksumAlgorithm": "SHA256"}, "SHA256")])
def test_the_write_probe_sends_the_checksum_velero_would(s3, tmp_path, config, sent):
    """Ceph RGW and Backblaze B2 refuse the default CRC32 checksum: `checksumAlgorithm: ""` sends none."""
    s3.create_bucket("velero")
    storage = {"m": compat(s3, tmp_path, s3.create_credentials(), config=config)}
    assert resolve_access(load(tmp_path, storage).storage["m"], {}).checksum == sent
    r = check(tmp_path, storage)["m"]
    assert statuses(r)["write-probe"] == "ok", r.checks


def test_env_credentials_honour_config_profile(s3, tmp_path):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    env = {"KEY_ID": creds.access_key_id, "SECRET": creds.secret_access_key}
    storage = {"m": {**compat(s3, tmp_path), "config": {"profile": "backup"},
                     "credentials": {"env": {"accessKeyId": "KEY_ID", "secretAccessKey": "SECRET"}}}}
    r = check(tmp_path, storage, env)["m"]
    assert not r.failed, r.checks
    # the Secret apply writes has the section the aws plugin will read
    desired = build_desired(load(tmp_path, storage, env), env)
    secret = next(d for a, d in desired.objects.items() if a.kind == "Secret")
    assert secret.secret["cloud"].decode().startswith("[backup]\naws_access_key_id=")


def test_a_bad_value_is_an_access_problem_before_any_request(tmp_path):
    policy = load(tmp_path, {"m": {"type": "aws", "bucket": "velero", "region": "eu-west-1",
                                   "config": {"checksumAlgorithm": "crc32"}}})
    with pytest.raises(AccessProblem, match="invalid checksum algorithm: crc32"):
        resolve_access(policy.storage["m"], {})
