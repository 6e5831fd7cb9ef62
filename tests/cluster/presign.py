"""Presigned URLs for the moto server. S3 takes SigV4 signatures in the query string (a presigned GET, as the
aws plugin's CreateSignedURL hands out for Velero's DownloadRequests), but moto's IAM check reads only the
Authorization header (moto/iam/access_control.py) and fails on such a request. This WSGI layer in front of
moto checks a query signature the way S3 does — the key exists, the URL has not expired, the signature
matches — and passes moto the same request signed in a header with the same key. Anything else reaches moto
untouched."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, quote

_QUERY_AUTH = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
               "X-Amz-Signature", "X-Amz-Security-Token")


def _secret_of(access_key_id: str) -> str | None:
    from moto.iam.models import iam_backends

    for parts in list(iam_backends.values()):
        for backend in list(parts.values()):
            for user in list(backend.users.values()):
                for key in user.access_keys:
                    if key.access_key_id == access_key_id and key.status == "Active":
                        return key.secret_access_key
    return None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def query_signature(secret: str, method: str, path: str, params: list[tuple[str, str]], host: str,
                    amz_date: str, scope: str) -> str:
    """SigV4 for a query-signed request: canonical request with UNSIGNED-PAYLOAD and only `host` signed."""
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(params) if k != "X-Amz-Signature")
    canonical = "\n".join([method, quote(path, safe="/~"), canonical_query, f"host:{host}\n", "host",
                           "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    day, region, service, _ = scope.split("/")
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class PresignedUrls:
    def __init__(self, app: Any, now=lambda: datetime.now(timezone.utc)) -> None:
        self.app, self.now = app, now

    def __call__(self, environ: dict, start_response: Any) -> Any:
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        given = dict(params)
        if "X-Amz-Signature" not in given or environ.get("HTTP_AUTHORIZATION"):
            return self.app(environ, start_response)
        refusal = self._check(environ, params, given)
        if refusal:
            code, message = refusal
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{message}</Message></Error>").encode()
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [body]
        self._sign_in_header(environ, [(k, v) for k, v in params if k not in _QUERY_AUTH], given)
        return self.app(environ, start_response)

    def _check(self, environ: dict, params, given: dict) -> tuple[str, str] | None:
        try:
            key_id, scope = given["X-Amz-Credential"].split("/", 1)
            signed_at = datetime.strptime(given["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            expires = int(given["X-Amz-Expires"])
        except (KeyError, ValueError):
            return "AuthorizationQueryParametersError", "Query-string authentication requires X-Amz-Credential, X-Amz-Date and X-Amz-Expires"
        secret = _secret_of(key_id)
        if secret is None:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        if self.now() > signed_at + timedelta(seconds=expires):
            return "AccessDenied", "Request has expired"
        expected = query_signature(secret, environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), params,
                                   environ.get("HTTP_HOST", ""), given["X-Amz-Date"], scope)
        if not hmac.compare_digest(expected, given["X-Amz-Signature"]):
            return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
        return None

    def _sign_in_header(self, environ: dict, rest: list[tuple[str, str]], given: dict) -> None:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key_id, scope = given["X-Amz-Credential"].split("/", 1)
        region = scope.split("/")[1]
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in rest)
        url = f"http://{environ.get('HTTP_HOST', '')}{quote(environ.get('PATH_INFO', '/'), safe='/~')}"
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=url + (f"?{query}" if query else ""))
        S3SigV4Auth(Credentials(key_id, _secret_of(key_id)), "s3", region).add_auth(request)
        environ["QUERY_STRING"] = query
        for name, value in request.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
