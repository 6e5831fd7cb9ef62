"""Read credential sources (files, environment variables) into secret bytes; never log the bytes."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from engine.spec.policy import Credentials


class SourceMissing(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def read_secret(creds: Credentials, env: Mapping[str, str]) -> bytes:
    """The bytes the Secret's key holds: the file as-is, or an AWS shared-credentials file from env vars."""
    if creds.file is not None:
        try:
            return creds.file.read_bytes()
        except OSError as exc:
            raise SourceMissing(f"cannot read credentials file {str(creds.file)!r}: {exc.strerror or exc}",
                                "credentials.file") from None
    lines = ["[default]"]
    keys = {"accessKeyId": "aws_access_key_id", "secretAccessKey": "aws_secret_access_key",
            "sessionToken": "aws_session_token"}
    for field, var in creds.env:
        if var not in env:
            raise SourceMissing(f"environment variable {var} is not set", f"credentials.env.{field}")
        lines.append(f"{keys[field]}={env[var]}")
    return ("\n".join(lines) + "\n").encode()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def process_env() -> Mapping[str, str]:
    return os.environ
