"""Serve the writing verbs: create, update, patch (merge, JSON, strategic, apply), delete, deletecollection."""
from __future__ import annotations

import json

import yaml

from . import errors, patch, protobuf
from .errors import success_status
from .resources import ResourceType
from .routing import Request, Response, Target
from .selectors import parse_field_selector, parse_label_selector
from .store import Store

_BODY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _decode(raw: bytes, content_type: str, rt: ResourceType) -> object:
    try:
        if content_type in ("application/yaml", "application/apply-patch+yaml"):
            return yaml.safe_load(raw.decode())
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as err:
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {rt.kind}): couldn't get "
                                 f"version/kind; json parse error: {err}") from None


def body(request: Request, rt: ResourceType) -> object:
    """The request body as JSON data; no Content-Type is read as JSON, as kube-apiserver does."""
    content_type = _content_type(request)
    if content_type == "application/vnd.kubernetes.protobuf" and not rt.custom:
        return protobuf.decode(request.body, rt.kind)
    if content_type not in ("", "application/json", "application/yaml", "*/*"):
        raise errors.unsupported_media_type(content_type, _BODY_TYPES if not rt.custom else _BODY_TYPES[:2])
    return _decode(request.body, content_type, rt)


def dry_run(request: Request, options: dict | None = None) -> bool:
    values = list(request.query.get("dryRun", [])) + list((options or {}).get("dryRun") or [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dryRun value: "{value}". Supported values: "All"')
    return bool(values)


def _field_validation(request: Request) -> str:
    return request.param("fieldValidation") or "Warn"


def manager(request: Request) -> str:
    """The field manager: the fieldManager parameter, else the User-Agent's product (as kube derives it)."""
    name = request.param("fieldManager")
    if name:
        if len(name) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be more than 128 bytes")
        return name
    return request.headers.get("user-agent", "unknown").split("/")[0][:128] or "unknown"


def _answer(status: int, raw: bytes, warnings: list[str]) -> Response:
    from .api import json_response
    return json_response(status, raw, warnings)


def create(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    if target.name is not None:
        raise errors.method_not_allowed("POST", rt.plural, rt.group)
    result = store.create_raw(rt.gvr, target.namespace, body(request, rt), dry_run=dry_run(request),
                              field_validation=_field_validation(request), manager=manager(request))
    return _answer(201, result.raw, result.warnings)


def update(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    new = body(request, rt)
    result = store.update_raw(rt.gvr, target.namespace, target.name, lambda old: new,
                              subresource=target.subresource, dry_run=dry_run(request),
                              field_validation=_field_validation(request), manager=manager(request))
    return _answer(200, result.raw, result.warnings)


def patch_object(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    content_type = _content_type(request)
    accepted = (patch.JSON_PATCH, patch.MERGE, patch.APPLY) + (() if rt.custom else (patch.STRATEGIC,))
    if content_type not in accepted:
        raise errors.unsupported_media_type(content_type, accepted)
    document = _decode(request.body, content_type, rt)
    if content_type == patch.APPLY:
        from .apply import server_side_apply
        status, result = server_side_apply(store, rt, target, request, document, dry_run=dry_run(request),
                                           field_validation=_field_validation(request))
        return _answer(status, result.raw, result.warnings)
    if content_type == patch.MERGE:
        patch.check_merge_patch(document)
        make = lambda old: patch.merge_patch(old, document)  # noqa: E731
    elif content_type == patch.STRATEGIC:
        patch.check_merge_patch(document)
        make = lambda old: patch.strategic_merge(old, document)  # noqa: E731
    else:
        make = lambda old: patch.json_patch(old, document)  # noqa: E731
    result = store.update_raw(rt.gvr, target.namespace, target.name, make, subresource=target.subresource,
                              dry_run=dry_run(request), field_validation=_field_validation(request),
                              manager=manager(request))
    return _answer(200, result.raw, result.warnings)


def _delete_options(request: Request, rt: ResourceType) -> dict:
    if not request.body.strip():
        return {}
    options = _decode(request.body, _content_type(request), rt)
    if not isinstance(options, dict):
        raise errors.bad_request("DeleteOptions must be an object")
    return options


def delete(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    options = _delete_options(request, rt)
    result = store.delete_raw(rt.gvr, target.namespace, target.name, dry_run=dry_run(request, options),
                              preconditions=options.get("preconditions"))
    if not result.deleted:  # 202 only for the deprecated orphanDependents=false (handlers/delete.go)
        return Response(202 if options.get("orphanDependents") is False else 200, result.raw)
    if rt.return_deleted:
        return Response(200, result.raw)
    obj = result.obj()
    return _answer(200, json.dumps(success_status(obj["metadata"]["name"], rt.group, rt.plural,
                                                  obj["metadata"]["uid"])).encode(), [])


def delete_collection(store: Store, rt: ResourceType, target: Target, request: Request) -> Response:
    options = _delete_options(request, rt)
    field, name = parse_field_selector(request.param("fieldSelector"), rt.plural)
    page = store.list_entries(rt.gvr, target.namespace, label_selector=parse_label_selector(
        request.param("labelSelector")), field_selector=field, name=name)
    deleted = []
    for entry in page.entries:
        meta = entry.obj["metadata"]
        try:
            deleted.append(store.delete_raw(rt.gvr, meta.get("namespace"), meta["name"],
                                            dry_run=dry_run(request, options)).raw)
        except errors.ApiError as err:
            if err.code != 404:
                raise
    head = json.dumps({"apiVersion": rt.api_version}).encode()[:-1]
    tail = json.dumps({"kind": rt.list_kind, "metadata": {"resourceVersion": store.resource_version}}).encode()
    return Response(200, head + b',"items":[' + b",".join(deleted) + b"]," + tail[1:])


OPERATIONS = {"create": create, "update": update, "patch": patch_object, "delete": delete,
              "deletecollection": delete_collection}
