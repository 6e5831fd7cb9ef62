"""Two storage entries must not share a bucket path: Velero would see each other's backups and folders."""
from __future__ import annotations

import pytest
import yaml

from engine.errors import PolicyError
from engine.spec import load_policy
from tests.helpers import write


def errors(tmp_path, storage: dict) -> list[str]:
    doc = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"}, "storage": storage}
    try:
        load_policy(write(tmp_path / "policy.yaml", yaml.safe_dump(doc)), env={})
    except PolicyError as exc:
        return [f"{d.path}: {d.message}" for d in exc.diagnostics]
    return []


def aws(prefix=None, bucket="velero"):
    return {"type": "aws", "bucket": bucket, "region": "us-east-1", **({"prefix": prefix} if prefix else {})}


def compat(endpoint="https://minio.a:9000", prefix=None, bucket="velero"):
    return {"type": "s3-compatible", "bucket": bucket, "endpoint": endpoint, **({"prefix": prefix} if prefix else {})}


@pytest.mark.parametrize("a, b, message", [
    (aws("prod"), aws("prod/eu"), "storage.b.bucket: bucket 'velero' prefix 'prod/eu' overlaps storage 'a'"),
    (aws(), aws("prod"), "storage.b.bucket: bucket 'velero' prefix 'prod' overlaps storage 'a'"),
    (compat(prefix="x"), compat(prefix="x"), "storage.b.bucket: bucket 'velero' prefix 'x' overlaps storage 'a'"),
])
def test_overlapping_bucket_paths_are_policy_errors(tmp_path, a, b, message):
    found = errors(tmp_path, {"a": a, "b": b})
    assert [e for e in found if e.startswith(message)] and len(found) == 1, found
    assert found[0].endswith("two locations must not share a bucket path")


@pytest.mark.parametrize("a, b", [
    (aws("prod"), aws("prod2")),  # a sibling, not a sub-folder
    (aws("prod/eu"), aws("prod/us")),
    (aws(bucket="velero"), aws(bucket="velero-dr")),
    (compat("https://minio.a:9000"), compat("https://minio.b:9000")),  # same bucket name on two servers
])
def test_separate_bucket_paths_are_fine(tmp_path, a, b):
    assert errors(tmp_path, {"a": a, "b": b}) == []
