"""Kubeconfig loading as kubectl does it: a KUBECONFIG list of files is merged, the first file wins per key.

kubectl's rule (client-go `clientcmd.ClientConfigLoadingRules.Load`): files that do not exist are skipped;
for clusters, users and contexts the first file to name an entry wins; for `current-context` the first file
that sets one wins. The official client's `KubeConfigMerger` keeps each entry's own file (relative
certificate paths resolve against it) and gets the named entries right, but lets a later file's
`current-context` win; `merged_loader` corrects that.
"""
from __future__ import annotations

import os

from engine.errors import ClusterUnreachable

DEFAULT = "~/.kube/config"


def config_paths(kubeconfig: str | None) -> tuple[str, list[str]]:
    """(what to call it in messages, the files in order) for --kubeconfig / KUBECONFIG / the default."""
    text = kubeconfig or os.environ.get("KUBECONFIG") or DEFAULT
    paths = [os.path.expanduser(p) for p in text.split(os.pathsep) if p]
    return text, paths


def _label(kubeconfig: str | None) -> str:
    text, _ = config_paths(kubeconfig)
    return "KUBECONFIG" if text == os.environ.get("KUBECONFIG") else text


def merged_loader(kubeconfig: str | None, context: str | None):
    """The client's KubeConfigLoader over the merged files, with --context checked against the merge."""
    import yaml
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    text, paths = config_paths(kubeconfig)
    existing = [p for p in paths if os.path.exists(p)]
    if not existing:
        raise FileNotFoundError(text)
    try:
        merger = KubeConfigMerger(os.pathsep.join(existing))
        current = _first_current_context(existing)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        name = getattr(mark, "name", None) or text
        where = f"{name}" + (f":{mark.line + 1}" if mark else "")
        raise ClusterUnreachable(f"{where}: the kubeconfig is not valid YAML: "
                                 f"{getattr(exc, 'problem', None) or exc}") from None
    except (OSError, ValueError, ConfigException) as exc:
        raise ClusterUnreachable(f"cannot read kubeconfig {text}: {exc}") from None
    if merger.config is None:
        raise ClusterUnreachable(f"kubeconfig {text} holds no configuration")
    merged = merger.config.value
    if current is not None:
        merged["current-context"] = current
    entries = [getattr(c, "value", c) for c in merged.get("contexts") or []]  # ConfigNode wraps each entry
    names = [str(c["name"]) for c in entries if isinstance(c, dict) and "name" in c]
    wanted = context or merged.get("current-context")
    if context and context not in names:
        raise ClusterUnreachable(f"context {context!r} is not in {_label(kubeconfig)} "
                                 f"(contexts: {', '.join(names) or 'none'})")
    if not wanted:
        raise ClusterUnreachable(f"{_label(kubeconfig)} sets no current-context; pass --context "
                                 f"(contexts: {', '.join(names) or 'none'})")
    try:
        return KubeConfigLoader(config_dict=merger.config, config_base_path=None, active_context=context)
    except ConfigException as exc:
        raise ClusterUnreachable(f"cannot use kubeconfig {text}: {exc}") from None


def _first_current_context(paths: list[str]) -> str | None:
    import yaml

    for path in paths:
        with open(path) as fh:
            doc = yaml.safe_load(fh)
        if isinstance(doc, dict) and doc.get("current-context"):
            return doc["current-context"]
    return None
