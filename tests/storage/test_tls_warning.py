"""storage check warns when certificates are not verified (insecureSkipTLSVerify)."""
from __future__ import annotations

from tests.helpers import run_cli, write


def test_storage_check_warns_when_certificates_are_not_verified(s3, tls_s3, tmp_path, capsys, monkeypatch):
    import yaml

    s3.create_bucket("velero")
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    doc = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"}, "storage": {
        "main": {"type": "s3-compatible", "bucket": "velero", "prefix": "tls", "endpoint": tls_s3.url,
                 "credentials": {"file": "./creds"}, "config": {"insecureSkipTLSVerify": "true"}}}}
    path = write(tmp_path / "policy.yaml", yaml.safe_dump(doc))
    res = run_cli(["storage", "check", "-f", str(path), "--no-write-probe"], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    lines = res.out.splitlines()
    assert lines[1] == f"  ok    endpoint     {tls_s3.url} answers"
    assert lines[2].startswith(f"  warn  tls          TLS certificates of {tls_s3.url} are not verified")
