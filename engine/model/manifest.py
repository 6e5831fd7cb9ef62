"""The full object apply writes: desired fields, the last-applied record, and (for Secrets) the data."""
from __future__ import annotations

import base64
import copy
import json

from engine.model.desired import DesiredObject

LAST_APPLIED = "snapplan.io/last-applied"


def last_applied(d: DesiredObject) -> str:
    """What snapplan set, minus secret data: the diff reads it back to see fields removed from the policy."""
    meta = d.obj["metadata"]
    view: dict = {"metadata": {"labels": meta.get("labels", {}), "annotations": meta.get("annotations", {})}}
    for key in ("spec", "type"):
        if key in d.obj:
            view[key] = d.obj[key]
    return json.dumps(view, separators=(",", ":"), sort_keys=True)


def to_manifest(d: DesiredObject) -> dict:
    obj = copy.deepcopy(d.obj)
    obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = last_applied(d)
    if d.secret is not None:
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in d.secret.items()}
    return obj
