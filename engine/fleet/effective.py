"""One cluster's effective policy: the base policy, then the fleet's overlays, the cluster's overlays and its
inline patch, merged by key; then its variables. Validated like any policy, with positions in the files that
wrote each value."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.errors import Diagnostics, PolicyError
from engine.fleet.merge import overlay, substitute
from engine.fleet.spec import ClusterSpec, Fleet
from engine.spec.load import _display, merge, policy_files
from engine.spec.source import Document, read_yaml


def effective_document(fleet: Fleet, cluster: ClusterSpec) -> tuple[Document, dict[str, Path]]:
    """(merged document, directory of each file that wrote part of it); PolicyError when a file is unreadable,
    an overlay is not a mapping or a variable is unknown."""
    diags = Diagnostics()
    docs: list[Document] = []
    for path in policy_files(fleet.policy):
        docs.extend(read_yaml(path, diags, _display(path)))
    base = merge(docs, diags) if docs else Document(_display(fleet.policy), {})
    dirs = {d.file: Path(d.file).parent for d in docs}
    for layer in cluster.overlays:
        if layer.document is not None:
            overlay(base, layer.document, diags)
            dirs[layer.document.file] = Path(layer.document.file).parent
            continue
        for fragment in read_yaml(layer.path, diags, _display(layer.path)):
            overlay(base, fragment, diags)
            dirs[fragment.file] = Path(fragment.file).parent
    substitute(base, cluster.variables, diags)
    if diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    return base, dirs


def effective_policy(fleet: Fleet, cluster: ClusterSpec, *, strict_sources: bool = False,
                     env: Mapping[str, str] | None = None):
    """(Policy, warnings, document) of one cluster, validated as `snapplan validate` would."""
    from engine.spec.load import policy_from_document

    doc, dirs = effective_document(fleet, cluster)
    policy, warnings = policy_from_document(doc, dirs, strict_sources=strict_sources, env=env)
    return policy, warnings, doc


def prepare_cluster(fleet: Fleet, cluster: ClusterSpec, env: Mapping[str, str] | None = None):
    """engine.planner.Prepared for one cluster of the fleet: what plan, apply and audit start from."""
    from engine.model import build_desired
    from engine.planner import Prepared

    env = os.environ if env is None else env
    policy, warnings, _ = effective_policy(fleet, cluster, strict_sources=True, env=env)
    return Prepared(policy, tuple(warnings), build_desired(policy, env))
