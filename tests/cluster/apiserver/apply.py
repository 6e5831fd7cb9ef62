"""Server-side apply (`application/apply-patch+yaml`): merge the applied configuration, own its fields,
report conflicts with other managers (409) unless forced, and drop fields the manager stopped applying."""
from __future__ import annotations

from . import errors, managed, schema
from .admission import copy_json
from .errors import ApiError, FieldError
from .resources import ResourceType
from .routing import Request, Target
from .store import Store, WriteResult


def _get(obj: object, path: managed.Path) -> object:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return managed._MISSING
        obj = obj[key]
    return obj


def _set(obj: dict, path: managed.Path, value: object) -> None:
    for key in path[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    if value == {} and isinstance(obj.get(path[-1]), dict):
        return
    obj[path[-1]] = copy_json(value)


def _delete(obj: dict, path: managed.Path) -> None:
    for key in path[:-1]:
        obj = obj.get(key)
        if not isinstance(obj, dict):
            return
    obj.pop(path[-1], None)


def _conflict(rt: ResourceType, conflicts: list[tuple[str, str]]) -> ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": field}
              for who, field in conflicts]
    if len(conflicts) == 1:
        message = f"Apply failed with 1 conflict: conflict with {conflicts[0][0]}: {conflicts[0][1]}"
    else:
        lines = []
        for who in sorted({w for w, _ in conflicts}):
            lines.append(f"conflicts with {who}:")
            lines += [f"- {field}" for w, field in conflicts if w == who]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def server_side_apply(store: Store, rt: ResourceType, target: Target, request: Request, document: object, *,
                      dry_run: bool, field_validation: str) -> tuple[int, WriteResult]:
    """(HTTP status, result) of applying `document` as request.fieldManager."""
    manager = request.param("fieldManager")
    if not manager:
        raise errors.invalid("PatchOptions", "meta.k8s.io", "", [FieldError(
            "Required", "fieldManager", detail="is required for apply patch")])
    if not isinstance(document, dict) or not document.get("kind") or not document.get("apiVersion"):
        raise errors.bad_request("error decoding patch: Object 'Kind' is missing in apply configuration")
    name = (document.get("metadata") or {}).get("name")
    if name != target.name:
        raise errors.bad_request(f"the name of the object ({name or ''}) does not match the name on the URL "
                                 f"({target.name})")
    applied = copy_json(document)
    meta = applied.pop("metadata", None) or {}
    schema.prune(applied, rt.schema, "", [])
    applied["metadata"] = meta
    sub = target.subresource
    applied_leaves = managed.leaves(managed.tracked(rt, applied, sub))
    force = request.flag("force")
    now = store.clock.now()
    plan: dict = {}

    def merge(live: dict) -> dict:
        items = managed.entries(live)
        conflicts = []
        for path, value in applied_leaves.items():
            if _get(live, path) == value:
                continue
            for entry in items:
                if (entry["manager"], entry.get("operation")) == (manager, "Apply"):
                    continue
                if any(managed.overlaps(path, q) for q in managed.owned(entry)):
                    conflicts.append((managed.identifier(entry), "." + ".".join(path)))
                    if force:
                        managed.set_owned(entry, {q for q in managed.owned(entry)
                                                  if not managed.overlaps(path, q)})
        if conflicts and not force:
            raise _conflict(rt, conflicts)
        mine = next((e for e in items if (e["manager"], e.get("operation"), e.get("subresource", ""))
                     == (manager, "Apply", sub)), None)
        before = managed.owned(mine) if mine else set()
        others = set().union(*(managed.owned(e) for e in items if e is not mine)) if items else set()
        new = copy_json(live)
        for path, value in applied_leaves.items():
            _set(new, path, value)
        for path in before - set(applied_leaves):
            if not any(managed.overlaps(path, q) for q in others):
                _delete(new, path)
        if mine is None:
            mine = managed.new_entry(rt, manager, "Apply", sub, now)
            items.append(mine)
        if before != set(applied_leaves):
            mine["time"] = managed.format_time(now)
        managed.set_owned(mine, set(applied_leaves))
        plan["entries"] = items
        return new

    def own(rt_: ResourceType, old: dict | None, new: dict) -> None:
        if old is None:
            entry = managed.new_entry(rt, manager, "Apply", sub, now)
            managed.set_owned(entry, set(managed.leaves(managed.tracked(rt, new, sub))))
            managed.set_entries(new, [entry])
        else:
            managed.set_entries(new, [e for e in plan["entries"] if e.get("fieldsV1")])

    for _ in range(3):
        try:
            return 200, store.update_raw(rt.gvr, target.namespace, target.name, merge, subresource=sub,
                                         dry_run=dry_run, field_validation=field_validation, hooks=own)
        except ApiError as err:
            if err.code != 404 or sub:
                raise
        try:
            return 201, store.create_raw(rt.gvr, target.namespace, document, dry_run=dry_run,
                                         field_validation=field_validation, hooks=own)
        except ApiError as err:
            if err.reason != "AlreadyExists":
                raise
    raise errors.conflict(rt.plural, rt.group, target.name, errors.STALE)
