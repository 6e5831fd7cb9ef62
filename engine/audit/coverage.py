"""Which namespaces of the cluster a running schedule backs up, and which policy apps lack namespaces."""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

# Never counted as unprotected (`--fail-on uncovered`): Kubernetes' own namespaces, plus Velero's (added
# per policy). They are still listed, marked as system.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class NamespaceCoverage:
    name: str
    protected_by: tuple[str, ...]  # schedule names
    system: bool


@dataclass(frozen=True)
class AppCoverage:
    name: str
    namespaces: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    known: bool  # False when the state lists no namespaces (a state file exported without them)
    namespaces: tuple[NamespaceCoverage, ...]
    apps: tuple[AppCoverage, ...]
    ignored: tuple[str, ...]

    @property
    def unprotected(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.namespaces if not n.protected_by and not n.system)


def protects(schedule: dict, namespace: str) -> bool:
    """Velero's namespace selection for the schedule's backups: includedNamespaces (empty or `*`: all;
    globs allowed) minus excludedNamespaces."""
    template = (schedule.get("spec") or {}).get("template") or {}
    included = template.get("includedNamespaces") or ["*"]
    excluded = template.get("excludedNamespaces") or []
    return (any(fnmatchcase(namespace, p) for p in included)
            and not any(fnmatchcase(namespace, p) for p in excluded))


def running(schedule: dict) -> bool:
    """A schedule that makes backups: not paused, not rejected by Velero."""
    return not (schedule.get("spec") or {}).get("paused") and \
        (schedule.get("status") or {}).get("phase") != "FailedValidation"


def coverage(namespaces: list[str], schedules: list[dict], apps: dict, velero_namespace: str) -> Coverage:
    """`schedules` are the live Schedules; `apps` the policy's App entries by name."""
    ignored = (*SYSTEM_NAMESPACES, velero_namespace)
    active = sorted((s for s in schedules if running(s)), key=lambda s: s["metadata"]["name"])
    rows = tuple(
        NamespaceCoverage(ns, tuple(s["metadata"]["name"] for s in active if protects(s, ns)), ns in ignored)
        for ns in sorted(namespaces))
    present = set(namespaces)
    app_rows = tuple(AppCoverage(name, tuple(app.namespaces),
                                 tuple(n for n in app.namespaces if n not in present) if namespaces else ())
                     for name, app in sorted(apps.items()))
    return Coverage(bool(namespaces), rows, app_rows, ignored)
