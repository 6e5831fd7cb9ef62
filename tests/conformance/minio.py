"""MinIO (built from its Go module) as the second S3 store: a real S3-compatible server with the checksum and
signature handling of a store people run, where moto is a model. Same calls as tests.cluster.s3.MotoS3 where the
scenarios use them."""
from __future__ import annotations

import secrets
from pathlib import Path

import boto3
import botocore.config
import requests

from tests.cluster.s3 import S3Credentials

from .processes import Process, free_port


class MinioS3:
    def __init__(self, binary: Path, workdir: Path) -> None:
        self.admin = S3Credentials("conformance-" + secrets.token_hex(4), secrets.token_hex(16))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        (workdir / "minio-data").mkdir(parents=True, exist_ok=True)
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.process = Process("minio", [str(binary), "server", str(workdir / "minio-data"), "--address",
                                         f"127.0.0.1:{port}", "--console-address", f"127.0.0.1:{free_port()}",
                                         "--quiet"], workdir / "logs" / "minio.log",
                               env={"MINIO_ROOT_USER": self.admin.access_key_id,
                                    "MINIO_ROOT_PASSWORD": self.admin.secret_access_key,
                                    "MINIO_BROWSER": "off"})
        session = requests.Session()
        session.trust_env = False
        self.process.wait_until(lambda: session.get(f"{self.url}/minio/health/ready", timeout=2).status_code == 200,
                                60, "ready")

    def stop(self) -> None:
        self.process.stop()

    def client(self, credentials: S3Credentials | None = None):
        creds = credentials or self.admin
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}))

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def create_credentials(self, name: str | None = None) -> S3Credentials:
        """The root user's keys: creating users needs MinIO's admin API, which these scenarios do not test."""
        return self.admin

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(out)
