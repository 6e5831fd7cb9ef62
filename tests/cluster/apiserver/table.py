"""meta.k8s.io/v1 Table output (what `kubectl get` asks for): CRD printer columns or the built-ins' columns."""
from __future__ import annotations

import json
import re
from datetime import datetime

from .meta import parse_time
from .resources import ResourceType

_NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
              "resources may allow a client to request the generation of an appropriate name automatically. "
              "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
              "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, as kubectl shows ages."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _age(value: object, now: datetime) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return human_duration((now - parse_time(value)).total_seconds())
    except ValueError:
        return "<invalid>"


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _jsonpath(obj: object, path: str) -> object:
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    for match in _STEP.finditer(path):
        key, index = match.groups()
        if key is not None and isinstance(obj, dict):
            obj = obj.get(key)
        elif index is not None and isinstance(obj, list) and int(index) < len(obj):
            obj = obj[int(index)]
        else:
            return None
    return obj


def _cell(kind: str, value: object, now: datetime) -> object:
    if value is None:
        return None
    if kind == "date":
        return _age(value, now)
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    return None


def _column(name: str, kind: str = "string", fmt: str = "", description: str = "", priority: int = 0) -> dict:
    return {"name": name, "type": kind, "format": fmt, "description": description, "priority": priority}


_AGE = ("Age", "date", ".metadata.creationTimestamp")


def _ready(obj: dict) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 1)}"


# Built-in columns: (name, type, jsonpath or function of the object).
_BUILTIN = {
    "namespaces": [("Status", "string", ".status.phase"), _AGE],
    "secrets": [("Type", "string", ".type"), ("Data", "integer", lambda o: len(o.get("data") or {})), _AGE],
    "configmaps": [("Data", "integer", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                   _AGE],
    "deployments": [("Ready", "string", _ready), ("Up-to-date", "integer", ".status.updatedReplicas"),
                    ("Available", "integer", ".status.availableReplicas"), _AGE],
    "daemonsets": [("Desired", "integer", ".status.desiredNumberScheduled"),
                   ("Current", "integer", ".status.currentNumberScheduled"),
                   ("Ready", "integer", ".status.numberReady"), _AGE],
    "leases": [("Holder", "string", ".spec.holderIdentity"), _AGE],
    "customresourcedefinitions": [("Created At", "date-string", ".metadata.creationTimestamp")],
}


def columns(rt: ResourceType) -> list[tuple[dict, object]]:
    """(column definition, how to compute the cell) for each column after Name."""
    if rt.custom:
        defs = rt.printer_columns or ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)
        return [(_column(c["name"], c["type"], c.get("format", ""), c.get("description", ""),
                         c.get("priority", 0)), (c["type"], c["jsonPath"])) for c in defs]
    result = []
    for name, kind, source in _BUILTIN.get(rt.plural, [_AGE]):
        shown = "string" if kind in ("date", "date-string") else kind
        result.append((_column(name, shown), (kind, source)))
    return result


def row(rt: ResourceType, obj: dict, cols: list, now: datetime, include: str) -> dict:
    cells: list = [obj["metadata"]["name"]]
    for _, (kind, source) in cols:
        value = source(obj) if callable(source) else _jsonpath(obj, source)
        cells.append(value if kind == "date-string" else _cell(kind, value, now))
    result: dict = {"cells": cells}
    if include == "Object":
        result["object"] = obj
    elif include != "None":
        result["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                            "metadata": obj["metadata"]}
    return result


def table(rt: ResourceType, objects: list[dict], now: datetime, *, resource_version: str = "",
          continue_token: str = "", include: str = "Metadata", with_columns: bool = True) -> dict:
    cols = columns(rt)
    meta: dict = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    body: dict = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    if with_columns:
        body["columnDefinitions"] = [_column("Name", "string", "name", _NAME_DESC)] + [c for c, _ in cols]
    body["rows"] = [row(rt, obj, cols, now, include) for obj in objects]
    return body
