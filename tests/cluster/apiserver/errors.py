"""Kubernetes Status errors: ApiError carries one, FieldError renders a validation cause.

Messages follow k8s.io/apimachinery (api/errors, util/validation/field) word for word, because kubectl and
client code print and match them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field


class ApiError(Exception):
    """An error the API server answers with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details  # None: no details; {} is sent as `"details":{}`, as kube does for some errors
        self.headers = headers or {}

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def success_status(name: str, group: str, kind: str, uid: str) -> dict:
    details = {"name": name, "group": group, "kind": kind, "uid": uid}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {k: v for k, v in details.items() if v}}


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str) -> dict:
    return {k: v for k, v in (("name", name), ("group", group), ("kind", kind)) if v}


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                    _details(name, group, resource))


def no_such_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
                    _details(name, group, resource))


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
                    _details(name, group, resource))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def decode_error(kind: str, version: str, why: str) -> ApiError:
    """A body the server could not decode into its type (kube's `cannot be handled as` 400)."""
    return bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {why}')


def forbidden(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{_qualified(resource, group)} "{name}" is forbidden: {why}',
                    _details(name, group, resource))


def method_not_allowed(verb: str, resource: str, group: str) -> ApiError:
    if not resource:
        return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                        {})
    return ApiError(405, "MethodNotAllowed",
                    f"{verb} is not supported on resources of kind \"{_qualified(resource, group)}\"",
                    _details("", group, resource))


def unsupported_media_type(content_type: str, accepted: tuple[str, ...]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted))


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, "TooManyRequests", "the server has received too many requests and has asked us "
                    "to try again later", {"retryAfterSeconds": retry_after},
                    {"Retry-After": str(retry_after)})


def internal_error(why: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {why}", {"causes": [{"message": why}]})


def service_unavailable(why: str = "the server is currently unable to handle the request") -> ApiError:
    return ApiError(503, "ServiceUnavailable", why)


def go_value(value: object) -> str:
    """Render a value as Go's %#v does for the JSON types kube puts in field errors."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else json.dumps(value)


# field.ErrorType -> (text, cause reason), from apimachinery/pkg/util/validation/field/errors.go.
_TYPES = {
    "Required": ("Required value", "FieldValueRequired"),
    "Invalid": ("Invalid value", "FieldValueInvalid"),
    "TypeInvalid": ("Invalid value", "FieldValueTypeInvalid"),
    "NotSupported": ("Unsupported value", "FieldValueNotSupported"),
    "Duplicate": ("Duplicate value", "FieldValueDuplicate"),
    "Forbidden": ("Forbidden", "FieldValueForbidden"),
    "TooMany": ("Too many", "FieldValueTooMany"),
}
_NO_VALUE = ("Required", "Forbidden")
OMIT = object()


@dataclass(frozen=True)
class FieldError:
    """One validation failure at a field path (e.g. `spec.schedule`)."""

    type: str
    field: str
    value: object = OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPES[self.type][0]
        if self.type not in _NO_VALUE and self.value is not OMIT:
            text = f"{text}: {go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict:
        return {"reason": _TYPES[self.type][1], "message": self.body(), "field": self.field}


def not_supported(path: str, value: object, allowed: list) -> FieldError:
    quoted = ", ".join(go_value(v) for v in allowed)
    return FieldError("NotSupported", path, value, f"supported values: {quoted}")


@dataclass
class Invalid(Exception):
    """Raised inside admission; the store turns it into a 422 ApiError naming the object."""

    errors: list[FieldError] = field(default_factory=list)


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    qualified = f"{kind}.{group}" if group else kind
    joined = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    details = {"name": name, "group": group, "kind": kind, "causes": [e.cause() for e in errors]}
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}',
                    {k: v for k, v in details.items() if v})
