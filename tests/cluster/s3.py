"""S3 for the test cluster: moto's server on 127.0.0.1 with IAM authentication on, and the helpers
fixtures need (buckets, credentials with and without permissions, credentials files, a dead endpoint).

moto keeps its state and its authentication switch in module globals, so every MotoS3 in one process
sees the same buckets and users, and reset() clears them all. Import moto only through _moto_server():
the INITIAL_NO_AUTH_ACTION_COUNT environment variable must be set before moto's first import.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import requests

S3_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# Requests moto lets through unauthenticated after a reset: exactly the ones _bootstrap_admin() sends.
_ADMIN_BOOTSTRAP_REQUESTS = 3
_lock = threading.Lock()


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair, as an IAM user of the moto server holds it."""

    access_key_id: str
    secret_access_key: str

    def shared_credentials_file(self, profile: str = "default") -> str:
        """The AWS shared-credentials file Velero reads from a Secret (`velero install --secret-file`)."""
        return render_credentials_file(self, profile)

    def with_secret(self, secret_access_key: str) -> S3Credentials:
        """The same key id with another secret: the server answers SignatureDoesNotMatch."""
        return S3Credentials(self.access_key_id, secret_access_key)


def render_credentials_file(credentials: S3Credentials, profile: str = "default") -> str:
    return (
        f"[{profile}]\n"
        f"aws_access_key_id={credentials.access_key_id}\n"
        f"aws_secret_access_key={credentials.secret_access_key}\n"
    )


def unreachable_endpoint() -> str:
    """An http URL on 127.0.0.1 where nothing listens (a port just released by the OS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _moto_server() -> Any:
    # Auth must be on from moto's first import; later changes go through /moto-api/reset-auth.
    os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", "0")
    from moto import settings
    from moto.server import ThreadedMotoServer

    if settings.INITIAL_NO_AUTH_ACTION_COUNT != 0:
        # moto was imported earlier by someone else (e.g. a mock_aws test) with auth off.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    # werkzeug logs every request to stderr; tests read their own output, not moto's.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    class Server(ThreadedMotoServer):
        """moto with presigned URLs honoured (tests/cluster/presign.py)."""

        def _server_entry(self) -> None:
            from moto.moto_server.threaded_moto_server import MotoRequestHandler, make_server
            from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app

            from tests.cluster.presign import PresignedUrls

            app = PresignedUrls(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server


class MotoS3:
    """A started moto server with an admin IAM user; every request is checked against IAM."""

    def __init__(self, server: Any, url: str) -> None:
        self._server = server
        self.url = url
        self.admin: S3Credentials = S3Credentials("", "")
        self._session = boto3.session.Session()
        self._user_seq = 0

    @classmethod
    def start(cls) -> MotoS3:
        server_cls = _moto_server()
        server = server_cls(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        moto = cls(server, f"http://{host}:{port}")
        moto.reset()
        return moto

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoS3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every bucket, object, user and key (in every moto server of this process), then
        make a new admin user. No other thread may send moto requests meanwhile: the admin is
        created through moto's few unauthenticated requests."""
        with _lock:
            requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
            requests.post(
                f"{self.url}/moto-api/reset-auth", data=str(_ADMIN_BOOTSTRAP_REQUESTS), timeout=10
            ).raise_for_status()
            self.admin = self._bootstrap_admin()
            self._user_seq = 0

    def _bootstrap_admin(self) -> S3Credentials:
        iam = self.client("iam", S3Credentials("bootstrap", "bootstrap"))
        iam.create_user(UserName="admin")
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.put_user_policy(UserName="admin", PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING))
        return S3Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def client(
        self,
        service: str = "s3",
        credentials: S3Credentials | None = None,
        region: str = "us-east-1",
        *,
        endpoint_url: str | None = None,
        path_style: bool = True,
    ) -> Any:
        """A boto3 client for this server (admin credentials unless others are given); no retries."""
        creds = credentials or self.admin
        config = botocore.config.Config(
            s3={"addressing_style": "path" if path_style else "auto"},
            retries={"total_max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
        )
        return self._session.client(
            service,
            endpoint_url=endpoint_url or self.url,
            region_name=region,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            config=config,
        )

    def create_bucket(self, name: str, region: str = "us-east-1") -> None:
        s3 = self.client("s3", region=region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})

    def create_credentials(self, name: str | None = None, policy: dict | None = S3_ALL) -> S3Credentials:
        """An IAM user with an access key and an inline policy (s3:* on everything by default).
        policy=None makes a user with no permissions: every S3 call is AccessDenied."""
        self._user_seq += 1
        user = name or f"user-{self._user_seq}-{uuid.uuid4().hex[:6]}"
        iam = self.client("iam")
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        if policy is not None:
            iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
        return S3Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def create_credentials_without_permissions(self, name: str | None = None) -> S3Credentials:
        return self.create_credentials(name, policy=None)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under prefix, sorted (admin view, for assertions)."""
        s3 = self.client("s3")
        out: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(out)

    def put_object(self, bucket: str, key: str, body: bytes | str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=data)

    def get_object(self, bucket: str, key: str) -> bytes:
        return self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
