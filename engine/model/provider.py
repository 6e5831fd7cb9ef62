"""Plugin provider names compared as Velero compares them.

Velero looks plugins up by a sanitised name (pkg/plugin/clientmgmt/manager.go sanitizeName): a name without
`/` is `velero.io/<name>`. So `gcp` and `velero.io/gcp` are one provider, and `aws` is `velero.io/aws`.
Pure.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """A provider by its sanitised name (`velero.io/aws`); compare these, write `PROVIDERS[type]`."""

    name: str

    @classmethod
    def of(cls, text) -> Provider:
        text = str(text or "").strip()
        return cls(text if "/" in text or not text else f"velero.io/{text}")

    def __str__(self) -> str:
        return self.name


# storage type -> the provider name snapplan writes (as `velero install --provider` and the plugins' docs do)
PROVIDERS = {
    "aws": "aws", "s3-compatible": "aws", "gcp": "velero.io/gcp", "azure": "velero.io/azure",
    "hostpath": "replicated.com/hostpath", "nfs": "replicated.com/nfs", "pvc": "replicated.com/pvc",
}
# provider -> storage type, for every spelling Velero accepts (aws is split by s3Url where it is read)
STORAGE_TYPES = {Provider.of(p): t for t, p in PROVIDERS.items() if t != "s3-compatible"}
SNAPSHOT_TYPES = {Provider.of(p): t for t, p in PROVIDERS.items() if t in ("aws", "gcp", "azure")}


def same_provider(a, b) -> bool:
    return Provider.of(a) == Provider.of(b)
