"""Where the real programs are (.conformance/bin, built by `make conformance-build`) and which are missing."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AWS_PLUGIN = "velero-plugin-for-aws"
# The versions pinned by go/*/go.mod, for reports (RESULTS.md, `serve`); build.sh builds exactly these.
VERSIONS = {
    "kube-apiserver": "k8s.io/kubernetes v1.34.2",
    "etcd": "go.etcd.io/etcd/server/v3 v3.6.4",
    "velero": "github.com/vmware-tanzu/velero v1.17.1",
    AWS_PLUGIN: "github.com/vmware-tanzu/velero-plugin-for-aws v1.14.3",
}


@dataclass(frozen=True)
class Binaries:
    folder: Path

    @classmethod
    def default(cls) -> Binaries:
        return cls(Path(os.environ.get("SNAPPLAN_CONFORMANCE_BIN", ROOT / ".conformance" / "bin")))

    @property
    def etcd(self) -> Path:
        return self.folder / "etcd"

    @property
    def kube_apiserver(self) -> Path:
        return self.folder / "kube-apiserver"

    @property
    def velero(self) -> Path:
        return self.folder / "velero"

    @property
    def plugin_dir(self) -> Path:
        return self.folder / "plugins"

    def missing(self) -> list[str]:
        wanted = [self.etcd, self.kube_apiserver, self.velero, self.plugin_dir / AWS_PLUGIN]
        return [p.name for p in wanted if not os.access(p, os.X_OK)]
