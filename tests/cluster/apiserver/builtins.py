"""The built-in kinds the test cluster serves, with the decoding rules and checks their Go types impose.

Built-ins get shallow schemas (enough to prune unknown fields and catch wrong JSON types) plus the few
server-side rules clients meet in practice: Secret stringData, Lease MicroTime, namespace defaults.
"""
from __future__ import annotations

import base64
import binascii
import re

from .errors import FieldError, decode_error
from .meta import format_micro_time, parse_micro_time
from .resources import ResourceType

_ANY = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _root(**props: dict) -> dict:
    return {"type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                              "metadata": {"type": "object"}, **props}}


SCHEMAS = {
    "namespaces": _root(spec={"type": "object", "properties": {
        "finalizers": {"type": "array", "items": {"type": "string"}}}}, status=_ANY),
    "secrets": _root(data=_STR_MAP, stringData=_STR_MAP, type={"type": "string"}, immutable={"type": "boolean"}),
    "configmaps": _root(data=_STR_MAP, binaryData=_STR_MAP, immutable={"type": "boolean"}),
    "deployments": _root(spec=_ANY, status=_ANY),
    "daemonsets": _root(spec=_ANY, status=_ANY),
    "leases": _root(spec={"type": "object", "properties": {
        "holderIdentity": {"type": "string"}, "leaseDurationSeconds": {"type": "integer"},
        "acquireTime": {"type": "string"}, "renewTime": {"type": "string"},
        "leaseTransitions": {"type": "integer"}, "strategy": {"type": "string"},
        "preferredHolder": {"type": "string"}}}),
    "customresourcedefinitions": _root(spec=_ANY, status=_ANY),
    # core/v1 Event (k8s.io/api/core/v1 types.go): what `kubectl describe` lists for an object
    "events": _root(
        involvedObject={"type": "object", "properties": {k: {"type": "string"} for k in (
            "apiVersion", "kind", "name", "namespace", "uid", "resourceVersion", "fieldPath")}},
        reason={"type": "string"}, message={"type": "string"}, type={"type": "string"},
        source={"type": "object", "properties": {"component": {"type": "string"}, "host": {"type": "string"}}},
        firstTimestamp={"type": "string"}, lastTimestamp={"type": "string"}, eventTime={"type": "string"},
        count={"type": "integer"}, action={"type": "string"}, reportingComponent={"type": "string"},
        reportingInstance={"type": "string"}, related=_ANY, series=_ANY),
}

BUILTIN_TYPES = (
    ResourceType("", "v1", "namespaces", "Namespace", "namespace", namespaced=False, short_names=("ns",),
                 schema=SCHEMAS["namespaces"], status_subresource=True, has_generation=False, label_name=True),
    ResourceType("", "v1", "secrets", "Secret", "secret", schema=SCHEMAS["secrets"], has_generation=False,
                 return_deleted=False),
    ResourceType("", "v1", "configmaps", "ConfigMap", "configmap", short_names=("cm",),
                 schema=SCHEMAS["configmaps"], has_generation=False, return_deleted=False),
    ResourceType("apps", "v1", "deployments", "Deployment", "deployment", short_names=("deploy",),
                 categories=("all",), schema=SCHEMAS["deployments"], status_subresource=True, return_deleted=False),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", "daemonset", short_names=("ds",), categories=("all",),
                 schema=SCHEMAS["daemonsets"], status_subresource=True, return_deleted=False),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", "lease", schema=SCHEMAS["leases"],
                 has_generation=False, return_deleted=False),
    ResourceType("", "v1", "events", "Event", "event", short_names=("ev",), schema=SCHEMAS["events"],
                 has_generation=False, return_deleted=False),
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                 "customresourcedefinition", namespaced=False, short_names=("crd", "crds"),
                 schema=SCHEMAS["customresourcedefinitions"], status_subresource=True),
)

# Go types of the built-in fields with a scalar JSON type, for `cannot unmarshal` messages.
_GO_TYPES = {"integer": "int32", "string": "string", "boolean": "bool", "array": "[]string",
             "object": "map[string]string"}
_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+\Z")
_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or " \
           "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"


def type_mismatch(rt: ResourceType, field: str, actual: str, wanted: str) -> Exception:
    """A JSON type error in a built-in: kube fails decoding with 400, not 422."""
    parent = field.rsplit(".", 1)[0] if "." in field else rt.kind
    go_struct = rt.kind + (parent.split(".")[0].capitalize() if "." in field else "")
    return decode_error(rt.kind, rt.version, f"json: cannot unmarshal {actual} into Go struct field "
                        f"{go_struct}.{field} of type {_GO_TYPES.get(wanted, wanted)}")


def _base64_error(value: str) -> int | None:
    """Index of the first byte Go's base64 decoder rejects, or None when `value` decodes."""
    try:
        base64.b64decode(value, validate=True)
        return None
    except (binascii.Error, ValueError):
        ok = re.match(r"[A-Za-z0-9+/]*", value).end()
        return min(ok, len(value))


def normalize(rt: ResourceType, obj: dict, *, creating: bool) -> None:
    """Apply the decoding and defaulting a built-in's Go type performs (in place); raise 400 on bad data."""
    if rt.plural == "secrets":
        data = dict(obj.get("data") or {})
        for value in data.values():
            if isinstance(value, str) and (bad := _base64_error(value)) is not None:
                raise decode_error(rt.kind, rt.version, f"illegal base64 data at input byte {bad}")
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(value.encode()).decode()
        if data:
            obj["data"] = data
        else:
            obj.pop("data", None)
        obj.setdefault("type", "Opaque")
    elif rt.plural == "leases":
        spec = obj.get("spec") or {}
        for key in ("acquireTime", "renewTime"):
            if isinstance(spec.get(key), str):
                try:
                    spec[key] = format_micro_time(parse_micro_time(spec[key]))
                except ValueError as err:
                    raise decode_error(rt.kind, rt.version, str(err)) from None
    elif rt.plural == "namespaces":
        name = obj["metadata"].get("name", "")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if creating:
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
    elif rt.plural == "deployments" and creating:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        if not (spec.get("strategy") or {}).get("type"):
            spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}


def validate(rt: ResourceType, obj: dict) -> list[FieldError]:
    """The few semantic checks of built-ins that clients meet (422 causes)."""
    errors: list[FieldError] = []
    if rt.plural in ("secrets", "configmaps"):
        for section in ("data", "binaryData"):
            for key in obj.get(section) or {}:
                if not _KEY_RE.match(key):
                    errors.append(FieldError("Invalid", f"{section}[{key}]", key, _KEY_MSG))
    elif rt.plural == "events":
        # kubernetes pkg/apis/core/validation/events.go legacyValidateEvent (no eventTime): the Event lives in
        # the namespace of the object it is about
        involved = (obj.get("involvedObject") or {}).get("namespace") or ""
        namespace = obj["metadata"].get("namespace") or ""
        if involved != namespace and not (not involved and namespace in ("", "default")):
            errors.append(FieldError("Invalid", "involvedObject.namespace", involved, "does not match event.namespace"))
    elif rt.plural == "leases":
        duration = (obj.get("spec") or {}).get("leaseDurationSeconds")
        if duration is not None and duration <= 0:
            errors.append(FieldError("Invalid", "spec.leaseDurationSeconds", duration, "must be greater than 0"))
    elif rt.plural in ("deployments", "daemonsets"):
        spec = obj.get("spec") or {}
        if not spec.get("selector"):
            errors.append(FieldError("Required", "spec.selector"))
        template = spec.get("template") or {}
        if not (template.get("spec") or {}).get("containers"):
            errors.append(FieldError("Required", "spec.template.spec.containers"))
        wanted = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in wanted.items()):
            errors.append(FieldError("Invalid", "spec.template.metadata.labels", labels,
                                     "`selector` does not match template `labels`"))
    return errors
