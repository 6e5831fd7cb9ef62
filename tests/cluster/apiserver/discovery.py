"""Discovery documents (plain and aggregated v2) and /version, built from the served resource types."""
from __future__ import annotations

from .resources import VERBS, ResourceType

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0" * 40, "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
           "platform": "linux/amd64"}
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
_GROUP_ORDER = ("", "apps", "coordination.k8s.io", "apiextensions.k8s.io")
_STATUS_VERBS = ["get", "patch", "update"]


def _groups(types: list[ResourceType]) -> dict[str, dict[str, list[ResourceType]]]:
    groups: dict[str, dict[str, list[ResourceType]]] = {}
    for rt in sorted(types, key=lambda t: (_GROUP_ORDER.index(t.group) if t.group in _GROUP_ORDER else 99,
                                           t.group, t.version, t.plural)):
        groups.setdefault(rt.group, {}).setdefault(rt.version, []).append(rt)
    return groups


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(types: list[ResourceType]) -> dict:
    groups = []
    for group, versions in _groups(types).items():
        if not group:
            continue
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(types: list[ResourceType], group: str, version: str) -> dict | None:
    """The APIResourceList of one group-version, or None when it is not served."""
    served = _groups(types).get(group, {}).get(version)
    if not served:
        return None
    resources = []
    for rt in served:
        entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": list(VERBS)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        if rt.status_subresource:
            resources.append({"name": f"{rt.plural}/status", "singularName": "", "namespaced": rt.namespaced,
                              "kind": rt.kind, "verbs": _STATUS_VERBS})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def aggregated(types: list[ResourceType], *, core: bool, version: str = "v2") -> dict:
    """APIGroupDiscoveryList for /api (core=True) or /apis."""
    items = []
    for group, versions in _groups(types).items():
        if (group == "") != core:
            continue
        item_versions = []
        for ver, served in versions.items():
            resources = []
            for rt in served:
                kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
                entry = {"resource": rt.plural, "responseKind": kind,
                         "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
                         "verbs": list(VERBS)}
                if rt.short_names:
                    entry["shortNames"] = list(rt.short_names)
                if rt.categories:
                    entry["categories"] = list(rt.categories)
                if rt.status_subresource:
                    entry["subresources"] = [{"subresource": "status", "responseKind": kind,
                                              "verbs": _STATUS_VERBS}]
                resources.append(entry)
            item_versions.append({"version": ver, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": item_versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery version the Accept header asks for first (v2 or v2beta1), if any."""
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in part.split(";")[1:] if "=" in p}
        if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
    return None
