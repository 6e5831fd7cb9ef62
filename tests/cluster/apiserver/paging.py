"""LIST continue tokens in the form kube-apiserver uses (base64 JSON of the list revision and next key)."""
from __future__ import annotations

import base64
import binascii
import json

from .errors import bad_request


def encode_continue(resource_version: int, start_key: str) -> str:
    body = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": start_key},
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """(list resourceVersion, first key of the next page); 400 for a token this server did not issue."""
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded))
        if body.get("v") != "meta.k8s.io/v1" or not isinstance(body.get("rv"), int):
            raise ValueError
        return body["rv"], str(body["start"])
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                          "(version meta.k8s.io/v1)") from None
