"""Load a fleet file (kind: Fleet, schemas/fleet.schema.json): positions kept, every problem reported at once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import Diagnostic, Diagnostics, PolicyError, Severity, SourceRange, printable
from engine.spec.load import _display
from engine.spec.schema import check_schema
from engine.spec.source import Document, read_yaml

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
BUILTIN = ("cluster", "region")  # set by the fleet itself: the cluster's name and its `region`


@dataclass(frozen=True)
class Overlay:
    """A policy fragment merged over the base: a file (path) or the cluster's inline `patch` (document)."""

    path: Path | None = None
    document: Document | None = None


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    context: str | None
    kubeconfig: str | None  # resolved against the fleet file's directory; None: --kubeconfig/KUBECONFIG/default
    labels: dict[str, str]
    variables: dict[str, str]  # cluster and region included
    overlays: tuple[Overlay, ...]
    source: SourceRange  # where the cluster's entry is written


@dataclass(frozen=True)
class Fleet:
    file: str  # as displayed in messages
    path: Path  # as given
    name: str
    policy: Path
    clusters: dict[str, ClusterSpec]
    document: Document = field(repr=False, default=None)


def _resolve(base: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def load_fleet(target: str | Path) -> Fleet:
    """Parse and validate a fleet file; PolicyError with every problem (FILE:LINE:COL) when it is wrong."""
    target = Path(target)
    display = _display(target)
    diags = Diagnostics()
    if not target.is_file():
        what = "is a directory, not a fleet file" if target.is_dir() else "no such file"
        raise PolicyError([Diagnostic(Severity.ERROR, what, source=SourceRange(display, 1, 1))])
    docs = read_yaml(target, diags, display)
    if diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    if len(docs) != 1:
        raise PolicyError([Diagnostic(Severity.ERROR, f"a fleet file holds one YAML document, not {len(docs)}",
                                      source=SourceRange(display, 1, 1))])
    doc = docs[0]
    check_schema(doc, diags, "fleet.schema.json")
    if diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    data, base = doc.data, target.parent
    fleet_vars = _variables(doc, ("variables",), diags)
    common = tuple(_overlay_files(doc, ("overlays",), base, diags))
    clusters = {}
    for name, raw in data["clusters"].items():
        path = ("clusters", name)
        if not raw.get("context") and not raw.get("kubeconfig") and not data.get("kubeconfig"):
            diags.error("give the cluster's kubeconfig context (context:) or file (kubeconfig:): without one, every "
                        "cluster of the fleet would be planned against the current context", _dotted(path),
                        doc.where_key(path))
        overlays = common + tuple(_overlay_files(doc, path + ("overlays",), base, diags))
        if "patch" in raw:
            overlays += (Overlay(document=_subdocument(doc, path + ("patch",))),)
        variables = {**fleet_vars, **_variables(doc, path + ("variables",), diags), "cluster": name}
        if raw.get("region") is not None:
            variables["region"] = raw["region"]
        kubeconfig = raw.get("kubeconfig") or data.get("kubeconfig")
        clusters[name] = ClusterSpec(
            name=name, context=raw.get("context"),
            kubeconfig=str(_resolve(base, kubeconfig)) if kubeconfig else None,
            labels=dict(raw.get("labels") or {}), variables=variables, overlays=overlays,
            source=doc.where_key(path))
    policy = _resolve(base, data["policy"])
    if not policy.exists():
        diags.error(f"no such file or directory: {printable(str(policy))}", "policy", doc.where(("policy",)))
    if diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    name = (data.get("metadata") or {}).get("name") or target.stem
    return Fleet(display, target, name, policy, clusters, doc)


def _variables(doc: Document, path: tuple, diags: Diagnostics) -> dict[str, str]:
    out = {}
    for key, value in ((_get(doc.data, path)) or {}).items():
        where = doc.where_key(path + (key,))
        if key in BUILTIN:
            diags.error(f"${{{key}}} is set by the fleet ({'the cluster name' if key == 'cluster' else 'region:'}); "
                        "it cannot be a variable", _dotted(path + (key,)), where)
        elif not VARIABLE_NAME.match(key):
            diags.error(f"invalid variable name {printable(key, 60)!r} (letters, digits and '_', not first a digit)",
                        _dotted(path + (key,)), where)
        else:
            out[key] = value
    return out


def _overlay_files(doc: Document, path: tuple, base: Path, diags: Diagnostics) -> list[Overlay]:
    out = []
    for i, text in enumerate(_get(doc.data, path) or ()):
        file = _resolve(base, text)
        if not file.is_file():
            diags.error(f"overlay {printable(text, 80)!r} is not a file", _dotted(path + (i,)), doc.where(path + (i,)))
        out.append(Overlay(path=file))
    return out


def _subdocument(doc: Document, prefix: tuple) -> Document:
    """The part of `doc` under `prefix`, as a document of its own whose positions still point into doc's file."""
    n = len(prefix)
    sub = Document(doc.file, _get(doc.data, prefix))
    sub.positions = {p[n:]: pos for p, pos in doc.positions.items() if p[:n] == prefix}
    sub.key_positions = {p[n:]: pos for p, pos in doc.key_positions.items() if p[:n] == prefix and len(p) > n}
    return sub


def _get(data, path: tuple):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _dotted(path: tuple) -> str:
    from engine.spec.source import dotted

    return dotted(path)


def select(fleet: Fleet, names: tuple[str, ...] = (), selectors: tuple[str, ...] = ()) -> list[ClusterSpec]:
    """The clusters named (--cluster, repeatable) and matching every label selector (--selector k=v[,k=v]);
    all of them when neither is given. Unknown names and malformed selectors are the user's mistake."""
    from engine.errors import SnapplanError

    unknown = [n for n in names if n not in fleet.clusters]
    if unknown:
        raise SnapplanError(f"{fleet.file}: no cluster named {', '.join(map(repr, unknown))} "
                            f"(the fleet has: {', '.join(sorted(fleet.clusters))})")
    wanted: dict[str, str] = {}
    for text in selectors:
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, eq, value = part.partition("=")
            if not eq or not key:
                raise SnapplanError(f"--selector {printable(part, 60)!r} is not key=value")
            wanted[key.strip()] = value.strip()
    chosen = [c for n, c in sorted(fleet.clusters.items()) if (not names or n in names)
              and all(c.labels.get(k) == v for k, v in wanted.items())]
    if not chosen:
        raise SnapplanError(f"{fleet.file}: no cluster matches "
                            + " and ".join([f"--cluster {', '.join(names)}"] * bool(names)
                                           + [f"--selector {','.join(f'{k}={v}' for k, v in wanted.items())}"]
                                           * bool(wanted)))
    return chosen
