"""Requests and responses as plain values, and the URL → (resource, verb) mapping kube-apiserver uses."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]          # lower-case names
    body: bytes = b""

    @classmethod
    def parse(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> "Request":
        url = urlsplit(target)
        return cls(method, unquote(url.path), parse_qs(url.query, keep_blank_values=True), headers, body)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() in ("true", "1")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """A resource request: what it names and which kube verb it is."""

    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str
    verb: str

    @property
    def gvr(self) -> tuple[str, str, str]:
        return (self.group, self.version, self.plural)

    @property
    def resource(self) -> str:
        return f"{self.plural}/{self.subresource}" if self.subresource else self.plural


_VERBS = {("GET", True): "get", ("PUT", True): "update", ("PATCH", True): "patch", ("DELETE", True): "delete",
          ("POST", False): "create", ("DELETE", False): "deletecollection", ("POST", True): "create"}


def resource_target(request: Request) -> Target | None:
    """The resource a request names, or None for non-resource paths (/version, /apis/g/v, /openapi)."""
    parts = [p for p in request.path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace = None
    core_ns_sub = group == "" and len(rest) == 3 and rest[0] == "namespaces" and rest[2] in ("status", "finalize")
    if rest[0] == "namespaces" and len(rest) >= 3 and not core_ns_sub:
        namespace, rest = rest[1], rest[2:]
    plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), ("/".join(rest[2:]) if len(rest) > 2 else "")
    if request.method == "GET" and name is None:
        verb = "watch" if request.flag("watch") else "list"
    else:
        verb = _VERBS.get((request.method, name is not None), request.method.lower())
    return Target(group, version, plural, namespace, name, sub, verb)
