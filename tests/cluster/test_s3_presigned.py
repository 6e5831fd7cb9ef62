"""Presigned URLs on the moto server (tests/cluster/presign.py): honoured when valid, refused as S3 refuses
them when tampered with, expired or signed by an unknown key."""
from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import botocore.config
import pytest

from tests.cluster.presign import query_signature


def _signer(s3, creds):
    return boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key,
                        config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (moto)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_presigned_get_is_served_and_checked(s3):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    s3.client("s3", creds).put_object(Bucket="velero", Key="backups/b 1/log.gz", Body=b"data")
    signer = _signer(s3, creds)
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "velero", "Key": "backups/b 1/log.gz"},
                                        ExpiresIn=600)
    assert _get(url) == (200, b"data")
    status, body = _get(url.replace("X-Amz-Signature=", "X-Amz-Signature=f"))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    other = _signer(s3, type(creds)("AKIANOSUCHKEY0000000", "x"))
    status, body = _get(other.generate_presigned_url("get_object", Params={"Bucket": "velero", "Key": "k"}))
    assert status == 403 and b"InvalidAccessKeyId" in body
    assert _get(signer.generate_presigned_url("get_object", Params={"Bucket": "velero", "Key": "nope"}))[0] == 404


def test_an_expired_presigned_url_is_refused(s3):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    s3.client("s3", creds).put_object(Bucket="velero", Key="k", Body=b"data")
    then = datetime.now(timezone.utc) - timedelta(hours=1)
    amz_date, day = then.strftime("%Y%m%dT%H%M%SZ"), then.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    host = s3.url.split("://", 1)[1]
    params = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{creds.access_key_id}/{scope}"),
              ("X-Amz-Date", amz_date), ("X-Amz-Expires", "600"), ("X-Amz-SignedHeaders", "host")]
    signature = query_signature(creds.secret_access_key, "GET", "/velero/k", params, host, amz_date, scope)
    query = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in params)
    status, body = _get(f"{s3.url}/velero/k?{query}&X-Amz-Signature={signature}")
    assert status == 403 and b"Request has expired" in body


@pytest.mark.parametrize("expires", ["600"])
def test_the_same_signature_within_its_time_is_served(s3, expires):
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    s3.client("s3", creds).put_object(Bucket="velero", Key="k", Body=b"data")
    now = datetime.now(timezone.utc)
    amz_date, scope = now.strftime("%Y%m%dT%H%M%SZ"), f"{now:%Y%m%d}/us-east-1/s3/aws4_request"
    params = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{creds.access_key_id}/{scope}"),
              ("X-Amz-Date", amz_date), ("X-Amz-Expires", expires), ("X-Amz-SignedHeaders", "host")]
    signature = query_signature(creds.secret_access_key, "GET", "/velero/k", params, s3.url.split("://", 1)[1],
                                amz_date, scope)
    query = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in params)
    assert _get(f"{s3.url}/velero/k?{query}&X-Amz-Signature={signature}") == (200, b"data")
