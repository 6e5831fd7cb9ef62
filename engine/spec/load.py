"""Load a policy from a file or a directory of YAML files: parse, merge, validate, default."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.errors import Diagnostic, Diagnostics, PolicyError, Severity, SourceRange
from engine.spec.build import build_policy
from engine.spec.policy import Policy
from engine.spec.schema import check_schema
from engine.spec.semantic import check_semantics
from engine.spec.source import Document, dotted, read_yaml

SECTIONS = ("apps", "storage", "snapshotLocations", "schedules", "restores")
HEADER = ("apiVersion", "kind", "metadata", "veleroNamespace")


def policy_files(target: Path) -> list[Path]:
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise PolicyError([Diagnostic(Severity.ERROR, "directory holds no .yaml or .yml files",
                                          source=SourceRange(str(target), 1, 1))])
        return files
    return [target]


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    # relative only inside the working directory: `../x` reads differently from every other directory (and
    # tests that compare positions with their tmp_path then depend on where the checkout lives)
    return str(path) if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def merge(docs: list[Document], diags: Diagnostics) -> Document:
    """One logical document: header fields must agree; entries of each section must not collide."""
    if len(docs) == 1 and isinstance(docs[0].data, dict):  # nothing to merge: the document as written
        only = docs[0]
        positions = dict(only.positions)
        positions.setdefault((), only.where(()))
        return Document(only.file, dict(only.data), positions, dict(only.key_positions))
    merged = Document(docs[0].file if docs else "", {})
    for doc in docs:
        if not isinstance(doc.data, dict):
            diags.error("a policy document must be a mapping", source=doc.where(()))
            continue
        index = _positions_by_prefix(doc)
        for key, value in doc.data.items():
            path = (key,)
            if key in SECTIONS and isinstance(value, dict) and isinstance(merged.data.get(key, {}), dict):
                section = merged.data.setdefault(key, {})
                merged.positions.setdefault(path, doc.where(path))
                merged.key_positions.setdefault(path, doc.where_key(path))
                for name in value:
                    if name in section:
                        first = merged.where_key(path + (name,))
                        diags.error(f"{key} entry {name!r} is already defined at {first}",
                                    dotted(path + (name,)), doc.where_key(path + (name,)))
                        continue
                    section[name] = value[name]
                    _copy_positions(index, merged, path + (name,))
            elif key in merged.data:
                if merged.data[key] != value:
                    diags.error(f"{key} differs from the one at {merged.where(path)}", key, doc.where(path))
            else:
                merged.data[key] = value
                _copy_positions(index, merged, path)
    if () not in merged.positions and docs:
        merged.positions[()] = docs[0].where(())
    return merged


def _positions_by_prefix(doc: Document) -> dict[tuple, list[tuple[bool, tuple, SourceRange]]]:
    """Every position of a document under its first key and under its first two keys, so copying an entry's
    positions reads only that entry's (scanning them all per entry made merging quadratic)."""
    index: dict[tuple, list] = {}
    for is_key, table in ((False, doc.positions), (True, doc.key_positions)):
        for path, pos in table.items():
            for prefix in {path[:1], path[:2]}:
                index.setdefault(prefix, []).append((is_key, path, pos))
    return index


def _copy_positions(index: dict, dst: Document, prefix: tuple) -> None:
    for is_key, path, pos in index.get(prefix, ()):
        (dst.key_positions if is_key else dst.positions)[path] = pos


def load_policy(target: str | Path, *, strict_sources: bool = False,
                env: Mapping[str, str] | None = None) -> tuple[Policy, list[Diagnostic]]:
    """Parse and validate; raise PolicyError with every error, else return the policy and its warnings.

    strict_sources=True (plan, apply) turns missing credential files and environment variables into errors;
    `env` is the environment credential variables are looked up in (default: this process's).
    """
    env = os.environ if env is None else env
    target = Path(target)
    diags = Diagnostics()
    try:
        exists = target.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise PolicyError([Diagnostic(Severity.ERROR, f"cannot read: {exc.strerror or exc}",
                                      source=SourceRange(str(target), 1, 1))]) from None
    if not exists:
        raise PolicyError([Diagnostic(Severity.ERROR, "no such file or directory",
                                      source=SourceRange(str(target), 1, 1))])
    docs: list[Document] = []
    for path in policy_files(target):
        docs.extend(read_yaml(path, diags, _display(path)))
    if not docs and diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    if not docs:
        raise PolicyError([Diagnostic(Severity.ERROR, "the policy is empty", source=SourceRange(_display(target), 1, 1))])
    return policy_from_document(merge(docs, diags), {d.file: Path(d.file).parent for d in docs}, diags,
                                strict_sources=strict_sources, env=env)


def policy_from_document(doc: Document, base_dirs: dict[str, Path], diags: Diagnostics | None = None, *,
                         strict_sources: bool = False, env: Mapping[str, str] | None = None
                         ) -> tuple[Policy, list[Diagnostic]]:
    """Validate one merged document (positions may point into several files; a relative path is read from
    the directory of the file that wrote it, `base_dirs`) and build the policy, as load_policy does."""
    env = os.environ if env is None else env
    diags = Diagnostics() if diags is None else diags
    check_schema(doc, diags)
    if diags.errors:
        # Report semantic errors in the same pass where the document's shape allows it.
        try:
            check_semantics(build_policy(doc, base_dirs), doc, diags, strict_sources=strict_sources, env=env,
                            roots=base_dirs)
        except (KeyError, TypeError, AttributeError, ValueError):
            pass  # the shape is too broken for semantic checks; the schema errors say why
        raise PolicyError(diags.items, diags.dropped)
    policy = build_policy(doc, base_dirs)
    check_semantics(policy, doc, diags, strict_sources=strict_sources, env=env, roots=base_dirs)
    if diags.errors:
        raise PolicyError(diags.items, diags.dropped)
    return policy, sorted(diags.warnings, key=Diagnostic.sort_key)
