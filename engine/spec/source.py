"""Read YAML into plain data while remembering where every key and value was written.

PyYAML's composed nodes carry marks; we construct the data ourselves so duplicate keys are caught
(PyYAML keeps the last one silently) and so alias bombs cannot expand without bound.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Diagnostics, SourceRange

Path_ = tuple  # a path into the document: keys and list indices

MAX_NODES = 200_000  # constructed values per file; far above any real policy, far below an alias bomb


@dataclass
class Document:
    """One YAML document: its data and the position of every path in it."""

    file: str
    data: Any
    positions: dict[Path_, SourceRange] = field(default_factory=dict)
    key_positions: dict[Path_, SourceRange] = field(default_factory=dict)

    def where(self, path: Path_) -> SourceRange:
        """The position of `path`, or of its nearest ancestor that was written."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), SourceRange(self.file, 1, 1))

    def where_key(self, path: Path_) -> SourceRange:
        return self.key_positions.get(tuple(path)) or self.where(path)


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader, diags: Diagnostics):
        self.file = file
        self.loader = loader
        self.diags = diags
        self.doc = Document(file, None)
        self.count = 0

    def pos(self, node: yaml.Node) -> SourceRange:
        return SourceRange(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge()
        self.doc.positions[path] = self.pos(node)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.diags.error("mapping keys must be plain strings", _dotted(path), self.pos(key_node))
                    continue
                key = self.loader.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key_node.value)
                if key in out:
                    first = self.doc.key_positions.get(path + (key,))
                    self.diags.error(
                        f"duplicate key {key!r} (first defined at line {first.line})" if first
                        else f"duplicate key {key!r}",
                        _dotted(path + (key,)), self.pos(key_node))
                    continue
                self.doc.key_positions[path + (key,)] = self.pos(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(node.value)  # dates and binary stay text; the schema decides if that is valid
        return value


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted


def read_yaml(path: Path, diags: Diagnostics, display: str | None = None) -> list[Document]:
    """Parse every document of a YAML file; problems go to `diags` with their position."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diags.error(f"cannot read file: {exc.strerror or exc}", source=SourceRange(name, 1, 1))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.error("file is not valid UTF-8", source=SourceRange(name, line, 1))
        return []
    loader = yaml.SafeLoader(text)
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            builder = _Builder(name, loader, diags)
            try:
                builder.doc.data = builder.build(node, ())
            except _TooLarge:
                diags.error(f"document expands to more than {MAX_NODES} values (alias bomb?)",
                            source=builder.pos(node))
                return docs
            docs.append(builder.doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceRange(name, mark.line + 1, mark.column + 1) if mark else SourceRange(name, 1, 1)
        diags.error(f"YAML syntax error: {exc.problem or exc.context}", source=where)
    except yaml.YAMLError as exc:
        diags.error(f"YAML error: {exc}", source=SourceRange(name, 1, 1))
    except RecursionError:
        diags.error("YAML nesting is too deep", source=SourceRange(name, 1, 1))
    finally:
        loader.dispose()
    return docs
