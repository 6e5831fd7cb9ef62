"""What the server serves: one ResourceType per group/version/resource, built in or from a CRD."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

GVR = tuple[str, str, str]
CRD_GVR: GVR = ("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES: GVR = ("", "v1", "namespaces")
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CRD_DIR = Path(__file__).resolve().parents[3] / "engine" / "crds"


@dataclass(frozen=True)
class ResourceType:
    """A served resource and the behaviour the API server gives it."""

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    schema: dict | None = field(default=None, compare=False, hash=False)
    status_subresource: bool = False
    has_generation: bool = True      # built-ins like Secret and Lease never get metadata.generation
    custom: bool = False             # served from a CRD: merge/json patch only, schema errors are 422
    return_deleted: bool = True      # DELETE answers with the object (else a Success Status)
    label_name: bool = False         # names must be DNS-1123 labels (namespaces)
    printer_columns: tuple[dict, ...] = field(default=(), compare=False, hash=False)

    @property
    def gvr(self) -> GVR:
        return (self.group, self.version, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def group_resource(self) -> str:
        """How messages name the resource: `schedules.velero.io`, or `secrets` for the core group."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def types_from_crd(crd: dict) -> list[ResourceType]:
    """The served versions of a CRD as ResourceTypes."""
    spec = crd["spec"]
    names = spec["names"]
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        types.append(ResourceType(
            group=spec["group"], version=version["name"], plural=names["plural"], kind=names["kind"],
            singular=names.get("singular") or names["kind"].lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            schema=(version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object",
                                                                              "x-kubernetes-preserve-unknown-fields": True},
            status_subresource="status" in (version.get("subresources") or {}),
            custom=True, printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
        ))
    return types


@lru_cache(maxsize=1)
def _velero_crds_json() -> str:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crds = [yaml.load(p.read_text(), Loader=loader) for p in sorted(CRD_DIR.glob("velero.io_*.yaml"))]
    return json.dumps(crds, default=str)


def velero_crds() -> list[dict]:
    """Velero's CRDs as the project carries them in engine/crds (parsed once; fresh dicts on each call)."""
    return json.loads(_velero_crds_json())
