"""Count objects of a kind in a namespace, for a drill's `expect` checks. The kind is found through API
discovery (core v1, then each group's preferred version), as kubectl resolves `kubectl get KIND`."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from engine.errors import SnapplanError
from engine.state.kube import get_json, request


class KindNotServed(SnapplanError):
    """No namespaced resource of that kind is served by the cluster."""


def _resources(api, path: str) -> list[dict]:
    return [r for r in (get_json(api, path).get("resources") or []) if "/" not in r.get("name", "")]


@lru_cache(maxsize=64)
def _discover(api, kind: str) -> str:
    """The collection path prefix (`/api/v1`, `/apis/apps/v1`) and plural for a namespaced kind."""
    for r in _resources(api, "/api/v1"):
        if r.get("kind") == kind and r.get("namespaced"):
            return f"/api/v1|{r['name']}"
    for group in get_json(api, "/apis").get("groups") or []:
        version = (group.get("preferredVersion") or {}).get("groupVersion")
        if not version:
            continue
        for r in _resources(api, f"/apis/{version}"):
            if r.get("kind") == kind and r.get("namespaced"):
                return f"/apis/{version}|{r['name']}"
    raise KindNotServed(f"the cluster serves no namespaced kind {kind!r} (kinds are case-sensitive, e.g. "
                        "Deployment, ConfigMap)")


def count(api, kind: str, namespace: str, name: str | None = None) -> int:
    prefix, plural = _discover(api, kind).split("|")
    base = f"{prefix}/namespaces/{quote(namespace, safe='')}/{plural}"
    if name:
        resp = request(api, "GET", f"{base}/{quote(name, safe='')}")
        return 1 if resp.status == 200 else 0
    return len(get_json(api, base).get("items") or [])
