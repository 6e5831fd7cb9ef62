"""Read a cluster-state file: what `kubectl get ... -o yaml|json` exports (a List, or several documents)."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from engine.errors import StateError
from engine.state.live import LiveState

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_state_file(path: str | Path, default_namespace: str = "velero") -> LiveState:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateError(f"{path}: state file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"{path}: cannot read state file: {exc}") from None
    try:
        docs = [json.loads(text)] if text.lstrip().startswith("{") else list(yaml.load_all(text, Loader=_Loader))
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise StateError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise StateError(f"{path}: invalid YAML: {exc}") from None
    state = LiveState(source=str(path))
    for number, doc in enumerate(docs, start=1):
        for obj in _flatten(doc, path, number):
            state.add(obj, default_namespace)
    return state


def _flatten(doc, path: Path, number: int):
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise StateError(f"{path}: document {number} is not a Kubernetes object or List")
    if "items" in doc and str(doc.get("kind", "List")).endswith("List"):
        item_kind = str(doc.get("kind", "List"))[: -len("List")]
        for i, item in enumerate(doc.get("items") or []):
            if isinstance(item, dict) and item_kind and "kind" not in item:
                item = {**item, "kind": item_kind, "apiVersion": doc.get("apiVersion")}
            yield from _flatten(item, path, number)
        return
    meta = doc.get("metadata")
    if not doc.get("kind") or not isinstance(meta, dict) or not meta.get("name"):
        raise StateError(f"{path}: document {number}: an object needs kind and metadata.name "
                         f"(got kind={doc.get('kind')!r})")
    yield doc
