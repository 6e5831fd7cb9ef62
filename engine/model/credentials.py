"""Read credential sources (files, environment variables) into secret bytes; never log the bytes."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from engine.errors import clip, printable
from engine.spec.policy import Credentials

MAX_SECRET_BYTES = 2**20  # the most a Kubernetes Secret holds


class SourceMissing(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def read_secret(creds: Credentials, env: Mapping[str, str], profile: str = "default") -> bytes:
    """The bytes the Secret's key holds: the file as-is, or an AWS shared-credentials file from env vars whose
    section is `profile` (the aws plugin reads the profile named by config.profile, `default` otherwise)."""
    if creds.file is not None:
        name = clip(str(creds.file), 200)
        try:
            with creds.file.open("rb") as fh:
                data = fh.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise SourceMissing(f"cannot read credentials file {name}: {exc.strerror or exc}", "credentials.file") \
                from None
        except ValueError:  # a NUL in the name
            raise SourceMissing(f"cannot read credentials file {name}", "credentials.file") from None
        if len(data) > MAX_SECRET_BYTES:
            raise SourceMissing(f"credentials file {name} is larger than 1 MiB, the most a Kubernetes Secret holds",
                                "credentials.file")
        return data
    lines = [f"[{profile}]"]
    keys = {"accessKeyId": "aws_access_key_id", "secretAccessKey": "aws_secret_access_key",
            "sessionToken": "aws_session_token"}
    for field, var in creds.env:
        if var not in env:
            raise SourceMissing(f"environment variable {printable(var, 80)} is not set", f"credentials.env.{field}")
        lines.append(f"{keys[field]}={env[var]}")
    return ("\n".join(lines) + "\n").encode()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def process_env() -> Mapping[str, str]:
    return os.environ
