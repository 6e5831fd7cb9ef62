"""A Schedule's resource filters and backup hooks back to `resources`/`clusterResources` and `apps.<slug>.hooks`.

Inverse of engine.model.desired.resource_filters and hook_resource. A hook spec is read back only when the policy
writes it the same way (the app's namespaces, matchLabels only, exec hooks with the fields the policy has);
anything else stays as it is in the cluster, and import says so.
"""
from __future__ import annotations

import re

from engine.model.desired import CLUSTER_RESOURCES, FILTER_FIELDS

_POLICY_FILTER = {"include": "include", "exclude": "exclude", "include_cluster_scoped": "includeClusterScoped",
                  "exclude_cluster_scoped": "excludeClusterScoped",
                  "include_namespace_scoped": "includeNamespaceScoped",
                  "exclude_namespace_scoped": "excludeNamespaceScoped"}
FILTER_KEYS = {velero for _, velero in FILTER_FIELDS} | {"includeClusterResources"}
_RESOURCE = re.compile(r"^[A-Za-z0-9*][-A-Za-z0-9.*]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOOK_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_GO_DURATION = re.compile(r"^([0-9]+(ms|s|m|h))+$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_HOOK_KEYS = {"name", "includedNamespaces", "labelSelector", "pre", "post"}
_EXEC_ORDER = ("container", "command", "onError", "timeout")


def filters_of(template: dict, note) -> tuple[dict, set[str]]:
    """(the entry's `resources`/`clusterResources` keys, the template keys they stand for)."""
    entry: dict = {}
    resources: dict = {}
    taken: set[str] = set()
    for attr, velero in FILTER_FIELDS:
        value = template.get(velero)
        if not value:
            continue
        if isinstance(value, list) and len(set(value)) == len(value) and all(
                isinstance(v, str) and _RESOURCE.match(v) for v in value):
            resources[_POLICY_FILTER[attr]] = list(value)
            taken.add(velero)
        else:
            note(f"template.{velero} {value} is kept as it is (not resource names the policy writes)")
    if resources:
        entry["resources"] = dict(sorted(resources.items()))
    cluster = template.get("includeClusterResources")
    if isinstance(cluster, bool):
        entry["clusterResources"] = next(k for k, v in CLUSTER_RESOURCES.items() if v is cluster)
        taken.add("includeClusterResources")
    return entry, taken


def hook_entry(resource: dict) -> tuple[list[str], dict[str, str], dict] | None:
    """(namespaces, pod matchLabels, the `hooks` entry without labelSelector) of one hook spec; None when the
    policy cannot write it back the same way."""
    if not isinstance(resource, dict) or set(resource) - _HOOK_KEYS:
        return None
    namespaces = resource.get("includedNamespaces") or []
    if not namespaces or not all(isinstance(n, str) and _DNS_LABEL.match(n) for n in namespaces):
        return None
    selector = resource.get("labelSelector") or {}
    labels = selector.get("matchLabels") or {} if isinstance(selector, dict) else None
    if labels is None or set(selector) - {"matchLabels"} or not all(
            _LABEL_KEY.match(str(k)) and isinstance(v, str) and _LABEL_VALUE.match(v) for k, v in labels.items()):
        return None
    entry: dict = {}
    name = resource.get("name")
    if not isinstance(name, str) or not _HOOK_NAME.match(name):
        return None
    for phase in ("pre", "post"):
        hooks = []
        for h in resource.get(phase) or []:
            run = h.get("exec") if isinstance(h, dict) and set(h) == {"exec"} else None
            if not _plain_exec(run):
                return None
            hooks.append({k: run[k] for k in _EXEC_ORDER if k in run})
        if hooks:
            entry[phase] = hooks
    if not entry:
        return None
    return list(namespaces), dict(labels), {"name": name, **entry}


def _plain_exec(run) -> bool:
    return (isinstance(run, dict) and not set(run) - set(_EXEC_ORDER)
            and isinstance(run.get("command"), list) and bool(run["command"])
            and all(isinstance(c, str) for c in run["command"])
            and ("container" not in run or (isinstance(run["container"], str) and bool(_DNS_LABEL.match(run["container"]))))
            and run.get("onError", "Fail") in ("Fail", "Continue")
            and ("timeout" not in run or (isinstance(run["timeout"], str) and bool(_GO_DURATION.match(run["timeout"])))))


def policy_hooks(found: dict, slug: str, app_selector: dict[str, str], hook_selector: dict[str, str]) -> dict | None:
    """The app's `hooks` as the policy writes them; None when its selector cannot be said (the app has one and
    the hooks run in all its pods)."""
    out: dict = {}
    if found["name"] != slug:
        out["name"] = found["name"]
    if hook_selector != app_selector:
        if not hook_selector:
            return None
        out["labelSelector"] = hook_selector
    out.update({k: found[k] for k in ("pre", "post") if k in found})
    return out
