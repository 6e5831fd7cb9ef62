"""Turn a request body into the object to store: decode, prune, default, set server fields, validate.

One pipeline for create, update and status writes, so in-process writes (the Velero simulator) meet the
same checks as HTTP writes. Pure: the store passes the old object and the time.
"""
from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field

from . import builtins, errors, schema
from .errors import FieldError, bad_request, decode_error
from .meta import OBJECT_META_FIELDS, format_time, validate_meta
from .resources import ResourceType

FIELD_VALIDATION = ("Ignore", "Warn", "Strict")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


@dataclass
class Admitted:
    obj: dict
    warnings: list[str] = field(default_factory=list)


def copy_json(value: object) -> object:
    """A deep copy that also proves the value is plain JSON."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as err:
        raise bad_request(f"the object is not valid JSON: {err}") from None


def content(obj: dict, *, with_status: bool) -> dict:
    """The part of an object whose change bumps metadata.generation."""
    skip = ("metadata", "apiVersion", "kind") if with_status else ("metadata", "apiVersion", "kind", "status")
    return {k: v for k, v in obj.items() if k not in skip}


def admit(rt: ResourceType, namespace: str | None, body: object, old: dict | None, *, mode: str,
          field_validation: str, now, url_name: str | None = None) -> Admitted:
    """The object a write of `body` would store; raises ApiError (400, 409, 422) when it must be refused.

    mode: "create", "update" (main resource) or "status" (the status subresource).
    """
    if not isinstance(body, dict):
        raise decode_error(rt.kind, rt.version, f"json: cannot unmarshal {schema.json_type(body)} into Go value "
                                                f"of type {'map[string]interface {}' if rt.custom else rt.kind}")
    if field_validation not in FIELD_VALIDATION:
        raise bad_request(f"fieldValidation parameter unsupported: {field_validation}")
    obj = copy_json(body)
    _check_type_meta(rt, obj)
    meta = obj.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise decode_error(rt.kind, rt.version, "json: cannot unmarshal into Go struct field .metadata of "
                                                "type v1.ObjectMeta")
    unknown = [f"metadata.{k}" for k in meta if k not in OBJECT_META_FIELDS]
    for key in unknown:
        del meta[key.removeprefix("metadata.")]
    obj.pop("metadata", None)  # the CR schema's `metadata: {type: object}` must not prune ObjectMeta
    schema.prune(obj, rt.schema, "", unknown)
    obj["metadata"] = meta
    warnings = _field_validation(rt, unknown, field_validation)
    _set_namespace(rt, namespace, meta)

    if mode == "create":
        _prepare_create(rt, obj, now)
    else:
        _prepare_update(rt, obj, old, mode=mode, url_name=url_name)
    if not rt.custom:
        _check_builtin_types(rt, obj)
        builtins.normalize(rt, obj, creating=mode == "create")
    body_only = {k: v for k, v in obj.items() if k != "metadata"}
    schema.apply_defaults(body_only, rt.schema)
    obj = {**body_only, "metadata": obj["metadata"]}

    problems = validate_meta(obj["metadata"], label_name=rt.label_name)
    if old is not None and old["metadata"].get("deletionTimestamp"):
        added = set(obj["metadata"].get("finalizers") or ()) - set(old["metadata"].get("finalizers") or ())
        if added:
            problems.append(FieldError("Forbidden", "metadata.finalizers", detail=
                                       "no new finalizers can be added if the object is being deleted, found "
                                       f"new finalizers {json.dumps(sorted(added))}"))
    if rt.custom:
        problems += schema.validate(body_only, rt.schema, "")
    else:
        problems += builtins.validate(rt, obj)
    if problems:
        raise errors.invalid(rt.kind, rt.group, obj["metadata"].get("name", ""), problems)
    if old is not None and rt.has_generation:
        changed = content(obj, with_status=not rt.status_subresource) != content(
            old, with_status=not rt.status_subresource)
        obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + (1 if changed else 0)
    return Admitted(obj, warnings)


def _check_type_meta(rt: ResourceType, obj: dict) -> None:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version and api_version != rt.api_version:
        raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                          f"version ({rt.api_version})")
    if kind and kind != rt.kind:
        raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind


def _field_validation(rt: ResourceType, unknown: list[str], mode: str) -> list[str]:
    if not unknown or mode == "Ignore":
        return []
    texts = [f'unknown field "{path}"' for path in unknown]
    if mode == "Strict":
        raise decode_error(rt.kind, rt.version, "strict decoding error: " + ", ".join(texts))
    return texts


def _set_namespace(rt: ResourceType, namespace: str | None, meta: dict) -> None:
    if not rt.namespaced:
        meta.pop("namespace", None)
        return
    if meta.get("namespace") and meta["namespace"] != namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    meta["namespace"] = namespace


def _prepare_create(rt: ResourceType, obj: dict, now) -> None:
    meta = obj["metadata"]
    if meta.get("resourceVersion"):  # etcd3 store.Create refuses it, unwrapped: a 500 without reason
        raise errors.ApiError(500, "", "resourceVersion should not be set on objects to be created")
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
    for key in ("resourceVersion", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"):
        meta.pop(key, None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = format_time(now)
    if rt.has_generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    if rt.status_subresource and rt.custom:
        obj.pop("status", None)
    elif rt.status_subresource:
        obj["status"] = {}


def _prepare_update(rt: ResourceType, obj: dict, old: dict, *, mode: str, url_name: str | None) -> None:
    meta, old_meta = obj["metadata"], old["metadata"]
    name = old_meta["name"]
    if meta.get("name", "") != (url_name or name):
        raise bad_request(f"the name of the object ({meta.get('name', '')}) does not match the name on the URL "
                          f"({url_name or name})")
    sent_rv = meta.get("resourceVersion")
    if sent_rv and sent_rv != old_meta["resourceVersion"]:
        raise errors.conflict(rt.plural, rt.group, name, errors.STALE)
    if meta.get("uid") and meta["uid"] != old_meta["uid"]:
        raise errors.conflict(rt.plural, rt.group, name, f"Precondition failed: UID in precondition: "
                                                         f"{meta['uid']}, UID in object meta: {old_meta['uid']}")
    if mode == "status":
        status = obj.get("status")
        obj.clear()
        obj.update(copy_json(old))
        obj.pop("status", None)
        if status is not None:
            obj["status"] = status
        return
    for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
                "managedFields"):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    meta["resourceVersion"] = old_meta["resourceVersion"]
    meta.pop("selfLink", None)
    if rt.status_subresource:
        obj.pop("status", None)
        if "status" in old:
            obj["status"] = copy_json(old["status"])


def _check_builtin_types(rt: ResourceType, obj: dict) -> None:
    body = {k: v for k, v in obj.items() if k != "metadata"}
    for problem in schema.validate(body, rt.schema, ""):
        if problem.type == "TypeInvalid":
            wanted = re.search(r"must be of type ([a-z,-]+):", problem.detail).group(1)
            raise builtins.type_mismatch(rt, problem.field, str(problem.value), wanted)
