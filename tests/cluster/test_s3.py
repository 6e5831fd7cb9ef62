"""moto with IAM auth on answers like AWS: good keys work; bad keys, missing permissions, missing
buckets and dead endpoints fail with the codes Velero's aws plugin reports."""
from __future__ import annotations

import botocore.exceptions
import pytest

from tests.cluster.s3 import MotoS3, render_credentials_file, unreachable_endpoint


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_good_credentials_read_and_write(s3: MotoS3) -> None:
    s3.create_bucket("velero", region="eu-west-1")
    creds = s3.create_credentials()
    client = s3.client("s3", creds, region="eu-west-1")
    client.put_object(Bucket="velero", Key="cluster-a/backups/b1/velero-backup.json", Body=b"{}")
    page = client.list_objects_v2(Bucket="velero", Prefix="cluster-a/", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["cluster-a/backups/"]
    assert client.get_bucket_location(Bucket="velero")["LocationConstraint"] == "eu-west-1"


def test_wrong_secret_is_signature_does_not_match(s3: MotoS3) -> None:
    s3.create_bucket("velero")
    creds = s3.create_credentials().with_secret("not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.client("s3", creds).list_objects_v2(Bucket="velero", Prefix="", Delimiter="/")
    assert error_code(excinfo) == "SignatureDoesNotMatch"


def test_unknown_key_is_invalid_access_key_id(s3: MotoS3) -> None:
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    s3.reset()  # the user is gone; its key is unknown now
    s3.create_bucket("velero")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.client("s3", creds).list_objects_v2(Bucket="velero")
    assert error_code(excinfo) == "InvalidAccessKeyId"


def test_user_without_policy_is_access_denied(s3: MotoS3) -> None:
    s3.create_bucket("velero")
    creds = s3.create_credentials_without_permissions()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.client("s3", creds).list_objects_v2(Bucket="velero", Prefix="x/", Delimiter="/")
    assert error_code(excinfo) == "AccessDenied"


def test_missing_bucket(s3: MotoS3) -> None:
    client = s3.client("s3", s3.create_credentials())
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_objects_v2(Bucket="no-such-bucket", Prefix="", Delimiter="/")
    assert error_code(excinfo) == "NoSuchBucket"


def test_unreachable_endpoint_refuses_connections(s3: MotoS3) -> None:
    client = s3.client("s3", s3.create_credentials(), endpoint_url=unreachable_endpoint())
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        client.list_objects_v2(Bucket="velero")


def test_reset_forgets_buckets(s3: MotoS3) -> None:
    s3.create_bucket("velero")
    s3.reset()
    assert s3.client("s3").list_buckets()["Buckets"] == []


def test_credentials_file_is_what_velero_reads() -> None:
    from tests.cluster.s3 import S3Credentials

    text = render_credentials_file(S3Credentials("AKIAEXAMPLE", "s3cr3t"))
    assert text == "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=s3cr3t\n"
