"""OpenAPI v3 documents: the root index and one document per group-version, from the served types.

kubectl needs each resource's PATCH operation with its GVK and a `fieldValidation` parameter to leave
validation to the server (cli-runtime query_param_verifier_v3.go); CRD schemas go into components.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from .resources import ResourceType

# The server accepts strategic merge for built-ins, but the documents do not announce it: with the shallow
# built-in schemas here, kubectl would compute its patches from them instead of its compiled-in types.
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")


def _param(name: str, where: str = "query", kind: str = "string", required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "schema": {"type": kind}, "uniqueItems": True}


def _schema_name(rt: ResourceType) -> str:
    group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{group}.{rt.version}.{rt.kind}"


def _operation(rt: ResourceType, action: str, op_id: str, *, body: tuple[str, ...] = (),
               params: tuple[str, ...] = ()) -> dict:
    ref = {"$ref": f"#/components/schemas/{_schema_name(rt)}"}
    op: dict = {"operationId": op_id, "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                "parameters": [_param(p) for p in params] + ([_param("force", kind="boolean")]
                                                             if action == "patch" else []),
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}}
    if body:
        schema = {"type": "object"} if action == "patch" else ref
        op["requestBody"] = {"content": {ct: {"schema": schema} for ct in body}, "required": True}
    return op


def _paths(rt: ResourceType) -> dict:
    base = rt.path("{namespace}") if rt.namespaced else rt.path()
    scope = "Namespaced" if rt.namespaced else ""
    path_params = ([_param("namespace", "path", required=True)] if rt.namespaced else [])
    write = ("dryRun", "fieldManager", "fieldValidation")
    item_params = path_params + [_param("name", "path", required=True)]
    patch_types = _PATCH_TYPES
    paths = {
        base: {"parameters": path_params,
               "get": _operation(rt, "list", f"list{scope}{rt.kind}", params=("labelSelector", "fieldSelector",
                                                                              "limit", "continue", "watch")),
               "post": _operation(rt, "post", f"create{scope}{rt.kind}", body=("application/json",),
                                  params=write)},
        f"{base}/{{name}}": {"parameters": item_params,
                             "get": _operation(rt, "get", f"read{scope}{rt.kind}"),
                             "put": _operation(rt, "put", f"replace{scope}{rt.kind}", body=("application/json",),
                                               params=write),
                             "patch": _operation(rt, "patch", f"patch{scope}{rt.kind}", body=patch_types,
                                                 params=write),
                             "delete": _operation(rt, "delete", f"delete{scope}{rt.kind}", params=("dryRun",))},
    }
    if rt.status_subresource:
        paths[f"{base}/{{name}}/status"] = {
            "parameters": item_params,
            "get": _operation(rt, "get", f"read{scope}{rt.kind}Status"),
            "put": _operation(rt, "put", f"replace{scope}{rt.kind}Status", body=("application/json",), params=write),
            "patch": _operation(rt, "patch", f"patch{scope}{rt.kind}Status", body=patch_types, params=write)}
    return paths


def _component(rt: ResourceType) -> dict:
    schema = json.loads(json.dumps(rt.schema or {"type": "object"}))
    schema["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    return schema


@lru_cache(maxsize=64)
def documents(types: frozenset[ResourceType]) -> tuple[bytes, dict[str, bytes]]:
    """(root index JSON, {"apis/velero.io/v1": document JSON}), built once per set of served types."""
    by_gv: dict[str, list[ResourceType]] = {}
    for rt in sorted(types, key=lambda t: (t.group, t.version, t.plural)):
        key = f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"
        by_gv.setdefault(key, []).append(rt)
    docs: dict[str, bytes] = {}
    root: dict = {"paths": {}}
    for key, served in by_gv.items():
        paths: dict = {}
        for rt in served:
            paths.update(_paths(rt))
        doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
               "components": {"schemas": {_schema_name(rt): _component(rt) for rt in served}}}
        docs[key] = json.dumps(doc, separators=(",", ":")).encode()
        digest = hashlib.sha512(docs[key]).hexdigest().upper()
        root["paths"][key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return json.dumps(root, separators=(",", ":")).encode(), docs
