"""Velero preflight for the plan: is Velero running, which version, and has it the plugins and the
node-agent this policy needs? Findings are shown in the plan; none of them stops it."""
from __future__ import annotations

from dataclasses import dataclass

from engine.spec.policy import Policy
from engine.state.live import LiveState

# storage type -> (plugin image name, what `velero plugin add` takes)
PLUGINS = {
    "aws": ("velero-plugin-for-aws", "velero/velero-plugin-for-aws"),
    "s3-compatible": ("velero-plugin-for-aws", "velero/velero-plugin-for-aws"),
    "gcp": ("velero-plugin-for-gcp", "velero/velero-plugin-for-gcp"),
    "azure": ("velero-plugin-for-microsoft-azure", "velero/velero-plugin-for-microsoft-azure"),
    "hostpath": ("local-volume-provider", "replicated/local-volume-provider"),
    "nfs": ("local-volume-provider", "replicated/local-volume-provider"),
    "pvc": ("local-volume-provider", "replicated/local-volume-provider"),
}
NODE_AGENT_NAMES = ("node-agent", "restic")  # restic: Velero < 1.10


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str


@dataclass(frozen=True)
class Preflight:
    checked: bool  # False when the state holds no workloads to look at (a state file without them)
    version: str | None
    findings: tuple[Finding, ...]


def _workloads(live: LiveState, kind: str, namespace: str) -> list[dict]:
    return [o for o in live.others if o.get("kind") == kind
            and (o.get("metadata") or {}).get("namespace", namespace) == namespace]


def _images(deploy: dict) -> list[str]:
    spec = ((deploy.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def _velero_deployment(live: LiveState, namespace: str) -> dict | None:
    deployments = _workloads(live, "Deployment", namespace)
    by_name = [d for d in deployments if d["metadata"].get("name") == "velero"]
    by_label = [d for d in deployments if (d["metadata"].get("labels") or {}).get("component") == "velero"]
    return (by_name or by_label or [None])[0]


def _tag(image: str) -> str | None:
    last = image.rsplit("/", 1)[-1].split("@")[0]  # name[:tag][@sha256:digest]
    return last.split(":", 1)[1] if ":" in last else None


def _name(image: str) -> str:
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]


def check_velero(policy: Policy, live: LiveState) -> Preflight:
    ns = policy.velero_namespace
    if not _workloads(live, "Deployment", ns) and not live.source.startswith("cluster"):
        return Preflight(False, None, (Finding(True, f"{live.source} holds no Deployments: Velero not checked"),))
    deploy = _velero_deployment(live, ns)
    if deploy is None:
        return Preflight(True, None, (Finding(False, f"no velero Deployment in namespace {ns}: nothing will act on "
                                                     "these objects (install Velero: velero install ...)"),))
    images = _images(deploy)
    server = next((i for i in images if _name(i) == "velero"), None)
    version = _tag(server) if server else None
    findings: list[Finding] = []
    status = deploy.get("status") or {}
    ready, wanted = status.get("readyReplicas") or 0, (deploy.get("spec") or {}).get("replicas", 1)
    findings.append(Finding(ready >= 1, f"velero Deployment {ready}/{wanted} ready"
                            + ("" if ready >= 1 else ": apply's waits will time out until it runs")))
    needs: dict[str, list[str]] = {}
    for s in policy.storage.values():
        needs.setdefault(s.type, []).append(f"storage {s.name}")
    for v in policy.snapshot_locations.values():
        if v.type in PLUGINS:
            needs.setdefault(v.type, []).append(f"snapshot location {v.name}")
    by_plugin: dict[str, tuple[str, list[str]]] = {}
    for type_, users in needs.items():
        if type_ in PLUGINS:
            name, ref = PLUGINS[type_]
            by_plugin.setdefault(name, (ref, []))[1].extend(f"{u} ({type_})" for u in users)
    for name, (ref, users) in sorted(by_plugin.items()):
        found = next((i for i in images if _name(i) == name), None)
        if found:
            findings.append(Finding(True, f"plugin {name} {_tag(found) or ''}".rstrip() + f" for {', '.join(users)}"))
        else:
            verb = "needs" if len(users) == 1 else "need"
            findings.append(Finding(False, f"plugin {name} is missing: {', '.join(users)} {verb} it; "
                                           f"add it with: velero plugin add {ref}:<version>"))
    fs = sorted(s.name for s in policy.schedules.values() if s.volumes == "filesystem")
    if fs:
        agents = [d for d in _workloads(live, "DaemonSet", ns) if d["metadata"].get("name") in NODE_AGENT_NAMES]
        if not agents:
            findings.append(Finding(False, f"no node-agent DaemonSet: schedule(s) {', '.join(fs)} back up volumes "
                                           "from the file system and need it (velero install --use-node-agent)"))
        else:
            st = agents[0].get("status") or {}
            ready, want = st.get("numberReady") or 0, st.get("desiredNumberScheduled") or 0
            findings.append(Finding(ready >= 1 and ready == want,
                                    f"node-agent {ready}/{want} ready for file-system backups ({', '.join(fs)})"))
    return Preflight(True, version, tuple(findings))
