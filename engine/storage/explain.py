"""One clear sentence per S3 failure: what went wrong, for which storage setting, and what to change."""
from __future__ import annotations

import re
from dataclasses import dataclass

# What each step needs, as IAM actions: named in AccessDenied messages so the fix is copy-pasteable.
NEEDS = {
    "list": ("s3:ListBucket", "bucket"),
    "put": ("s3:PutObject", "objects"),
    "delete": ("s3:DeleteObject", "objects"),
    "get": ("s3:GetObject", "objects"),
}


@dataclass(frozen=True)
class Target:
    """The storage as the messages name it."""

    type: str
    bucket: str
    prefix: str  # "" or "prod/" (with the slash)
    endpoint: str
    region: str
    source: str  # where the credentials came from
    access_key_id: str | None
    ca_file: str | None

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


class Failure(Exception):
    """A step failed: `check` is the step the failure belongs to, the message says how to fix it."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check
        self.message = message


def explain(exc: Exception, t: Target, action: str) -> Failure:
    """The Failure for an exception boto3 raised while doing `action` (list, put, delete, get)."""
    import botocore.exceptions as bex

    if isinstance(exc, bex.SSLError):
        return Failure("endpoint", _tls(exc, t))
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError,
                        bex.ReadTimeoutError, bex.ProxyConnectionError)):
        return Failure("endpoint", _unreachable(exc, t))
    if isinstance(exc, bex.ClientError):
        return _client_error(exc, t, action)
    if isinstance(exc, bex.NoCredentialsError):
        return Failure("credentials", f"no credentials: {t.source}")
    return Failure("endpoint", f"{t.endpoint}: {type(exc).__name__}: {exc}")


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


def _client_error(exc, t: Target, action: str) -> Failure:
    response = exc.response
    code = error_code(exc)
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    message = (response.get("Error") or {}).get("Message") or ""
    key = _key(t.access_key_id)
    if code == "InvalidAccessKeyId":
        return Failure("credentials", f"the access key {key} is not known to {t.endpoint} (InvalidAccessKeyId): "
                                      f"fix the access key id in {t.source}")
    if code == "SignatureDoesNotMatch":
        return Failure("credentials", f"the secret key does not belong to access key {key} "
                                      f"(SignatureDoesNotMatch): fix the secret access key in {t.source}")
    if code in ("ExpiredToken", "TokenRefreshRequired", "InvalidToken"):
        return Failure("credentials", f"the session token of {t.source} is expired or invalid ({code}): "
                                      "renew the credentials")
    if code == "RequestTimeTooSkewed":
        return Failure("credentials", "this machine's clock differs too much from the server's "
                                      "(RequestTimeTooSkewed): sync the clock (NTP)")
    if code in ("NoSuchBucket", "404", "NotFound") and action == "list":
        how = f"create it (aws s3 mb s3://{t.bucket} --region {t.region})" if t.type == "aws" else \
            "create it on the server"
        return Failure("bucket", f"bucket {t.bucket!r} does not exist at {t.endpoint} (NoSuchBucket): "
                                 f"{how} or fix `bucket`")
    right = _region_in(exc)
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException") \
            or status == 301:
        if right and right != t.region:
            return wrong_region(t, right)
        return Failure("region", f"{t.endpoint} redirects requests for bucket {t.bucket!r} ({code or status}): "
                                 "the bucket is in another region; set `region` to the bucket's region")
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
        return Failure(_access_check(action), _denied(t, action, code or str(status)))
    return Failure(_access_check(action), f"{action} on {t.url} failed: {code or status}: {message}".rstrip(": "))


def wrong_region(t: Target, right: str) -> Failure:
    return Failure("region", f"bucket {t.bucket!r} is in region {right}, not {t.region}: set `region: {right}` "
                             "(Velero signs for the configured region and would be refused)")


def _access_check(action: str) -> str:
    return {"list": "credentials", "put": "write-probe", "delete": "write-probe"}.get(action, "backups")


def _denied(t: Target, action: str, code: str) -> str:
    permission, scope = NEEDS[action]
    arn = f"arn:aws:s3:::{t.bucket}" if scope == "bucket" else f"arn:aws:s3:::{t.bucket}/{t.prefix}*"
    doing = {"list": f"listing {t.url}", "put": f"writing under {t.url}", "delete": f"deleting under {t.url}",
             "get": f"reading {t.url}"}[action]
    return (f"access denied {doing} ({code}) with {t.source}: allow {permission} on {arn} "
            "for these credentials (and check that no bucket policy denies it)")


def _region_in(exc) -> str | None:
    response = exc.response
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    error = response.get("Error") or {}
    if headers.get("x-amz-bucket-region"):
        return headers["x-amz-bucket-region"]
    if error.get("Region"):
        return error["Region"]
    found = re.search(r"expecting '([a-z0-9-]+)'", error.get("Message") or "")
    return found.group(1) if found else None


def _tls(exc, t: Target) -> str:
    reason = _reason(exc)
    if "WRONG_VERSION_NUMBER" in reason.upper().replace(" ", "_"):
        return (f"{t.endpoint} does not speak TLS ({reason}): use http:// in `endpoint`, or the server's "
                "TLS port")
    if t.ca_file:
        return (f"TLS to {t.endpoint} failed with caFile {t.ca_file} ({reason}): set `caFile` to the CA "
                "certificate that signed the server's certificate")
    return (f"TLS to {t.endpoint} failed ({reason}): set `caFile` to the CA certificate that signed the "
            "server's certificate")


def _unreachable(exc, t: Target) -> str:
    reason = _reason(exc)
    where = "`endpoint`" if t.type == "s3-compatible" else "`region` and this machine's network or proxy"
    return f"cannot reach {t.endpoint} ({reason}): check {where}; Velero's pod must reach it too"


def _reason(exc) -> str:
    """The useful end of a urllib3/ssl error chain: '[Errno 111] Connection refused', 'certificate verify failed: ...'."""
    text = str(exc.kwargs.get("error", "")) if hasattr(exc, "kwargs") else ""
    text = text or str(exc)
    for pattern in (r"\[SSL: [A-Z_]+\] ([^(\"']+?)(?: \(_ssl|['\")]|$)", r"(\[Errno -?\d+\] [^'\")]+)",
                    r"(certificate verify failed[^'\")]*)", r"(timed out)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return type(exc).__name__


def _key(key_id: str | None) -> str:
    if not key_id:
        return "(from the chain)"
    return key_id if len(key_id) <= 8 else f"{key_id[:4]}…{key_id[-4:]}"
