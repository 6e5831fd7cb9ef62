"""Read YAML into plain data while remembering where every key and value was written.

PyYAML's composed nodes carry marks; we construct the data ourselves so duplicate keys are caught
(PyYAML keeps the last one silently), alias and merge-key bombs cannot expand without bound, and only
plain YAML is read: a !!python (or any other) tag is an error, never an object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Diagnostics, SnapplanError, SourceRange, clip, printable
from engine.limits import POLICY as POLICY_LIMIT, read_bounded
from engine.yamlscan import scan

Path_ = tuple  # a path into the document: keys and list indices

# libyaml's parser when PyYAML has it: about ten times faster than the pure-Python one, with the same nodes
# and marks (line, column) for positions.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 200_000  # constructed values per file; far above any real policy, far below an alias bomb
MAX_DEPTH = 64  # nesting levels; a policy needs 6. libyaml's composer recurses in C: a deeper file crashes it
MAX_BYTES = 2**20  # the default bound (engine.limits.POLICY): a policy of 5,000 schedules is 300 KB
MAX_REPARSE = 256 * 2**10  # re-read for a better syntax message only this much: the pure-Python parser is slow


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


MERGE_TAG = "tag:yaml.org,2002:merge"
# Tags a policy may carry: the YAML core types. Anything else (!!python/object, !!set, custom !tags) is refused.
SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}
COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
ONLY_PLAIN = "a policy holds plain YAML only (text, numbers, booleans, null, lists and mappings)"
SCALAR_WORDS = {"tag:yaml.org,2002:int": "an integer", "tag:yaml.org,2002:float": "a number",
                "tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:timestamp": "a date",
                "tag:yaml.org,2002:binary": "base64 data (!!binary)"}


class _Stop(Exception):
    """The document cannot be read further (too large, too deep, recursive); the message says why."""

    def __init__(self, message: str, node: yaml.Node):
        super().__init__(message)
        self.node = node


class _Builder:
    def __init__(self, file: str, loader: "yaml.SafeLoader | yaml.CSafeLoader", diags: Diagnostics):
        self.file = file
        self.loader = loader
        self.diags = diags
        self.doc = Document(file, None)
        self.count = 0
        self.open: set[int] = set()  # ids of the nodes being built: meeting one again is a recursive alias
        self.merged: dict[int, list] = {}  # id(mapping node) -> its pairs with merge keys resolved

    def pos(self, node: yaml.Node) -> SourceRange:
        return SourceRange(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Stop(f"document expands to more than {MAX_NODES} values (alias bomb?)", node)
        if len(path) > MAX_DEPTH:
            raise _Stop(f"nesting deeper than {MAX_DEPTH} levels", node)
        self.doc.positions[path] = self.pos(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in COLLECTION_TAGS:
            self.diags.error(f"tag {_tag(node.tag)} is not allowed: {ONLY_PLAIN}", _dotted(path), self.pos(node))
        if id(node) in self.open:
            raise _Stop("an alias refers to the node that contains it (a recursive anchor)", node)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        out: dict = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in out:
                first = self.doc.key_positions.get(path + (key,))
                where = f" (first defined at line {first.line})" if first else ""
                self.diags.error(f"duplicate key {clip(key)}{where}", _dotted(path + (key,)), self.pos(key_node))
                continue
            self.doc.key_positions[path + (key,)] = self.pos(key_node)
            out[key] = self.build(value_node, path + (key,))
        # YAML merge keys (`<<: *defaults`): keys written here win, then earlier merged mappings over later ones.
        for key, key_node, value_node in self.merge_sources(merges, path, report=True):
            if key not in out:
                self.doc.key_positions[path + (key,)] = self.pos(key_node)
                out[key] = self.build(value_node, path + (key,))
        return out

    def merge_sources(self, merges: list, path: Path_, report: bool) -> list:
        pairs, seen = [], set()
        for value in merges:
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    if report:
                        self.diags.error("a merge key (<<) takes a mapping or a list of mappings",
                                         _dotted(path), self.pos(source))
                    continue
                for pair in self.resolved(source):
                    if pair[0] not in seen:
                        seen.add(pair[0])
                        pairs.append(pair)
        return pairs

    def resolved(self, node: yaml.MappingNode) -> list:
        """(key, key node, value node) of a mapping, merges resolved. Memoized: merges of merges of one anchor
        would otherwise grow exponentially (PyYAML's own flatten_mapping does)."""
        if id(node) in self.merged:
            return self.merged[id(node)]
        if id(node) in self.open:
            raise _Stop("a merge key (<<) refers to the mapping that contains it", node)
        self.open.add(id(node))
        try:
            own, merges, keys = [], [], set()
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    merges.append(value_node)
                    continue
                key = self.key(key_node, (), report=False)
                if key is not None and key not in keys:  # problems are reported where the mapping is written
                    keys.add(key)
                    own.append((key, key_node, value_node))
            inherited = [p for p in self.merge_sources(merges, (), report=False) if p[0] not in keys]
        finally:
            self.open.discard(id(node))
        self.merged[id(node)] = own + inherited
        return self.merged[id(node)]

    def key(self, node: yaml.Node, path: Path_, report: bool = True) -> str | None:
        """A mapping key as text (`1:` and `true:` are the keys "1" and "true"); None if it is not a scalar."""
        if not isinstance(node, yaml.ScalarNode):
            if report:
                self.diags.error("mapping keys must be plain strings", _dotted(path), self.pos(node))
            return None
        if node.tag not in SCALAR_TAGS:
            if report:
                self.diags.error(f"tag {_tag(node.tag)} is not allowed: {ONLY_PLAIN}", _dotted(path), self.pos(node))
            return None
        return node.value

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag not in SCALAR_TAGS:
            self.diags.error(f"tag {_tag(node.tag)} is not allowed: {ONLY_PLAIN}", _dotted(path), self.pos(node))
            return node.value
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
            # e.g. `2024-13-45` (a date by YAML's rules), `!!int x`, a 5000-digit number, bad !!binary
            kind = SCALAR_WORDS.get(node.tag, _tag(node.tag))
            self.diags.error(f"{clip(node.value)} reads as {kind} but is not a valid one; "
                             "quote it if it is meant as text", _dotted(path), self.pos(node))
            return node.value
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(node.value)  # dates and binary stay text; the schema decides if that is valid
        return value


def _tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object` -> `!!python/object`, as the user wrote it."""
    return printable("!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag, 60)


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
        most = POLICY_LIMIT.mib() * 2**20
        raw, size = read_bounded(path, most)
    except OSError as exc:
        diags.error(f"cannot read file: {exc.strerror or exc}", source=SourceRange(name, 1, 1))
        return []
    except SnapplanError as exc:  # the limit's variable is not a number
        diags.error(str(exc), source=SourceRange(name, 1, 1))
        return []
    if (size or 0) > most or len(raw) > most:
        diags.error(POLICY_LIMIT.too_big("the file", size) + " (or split the policy into a directory of files)",
                    source=SourceRange(name, 1, 1))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.error(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", source=SourceRange(name, line, 1))
        return []
    found = Diagnostics()
    docs = _compose(text, name, found, _Loader)
    if _Loader is not yaml.SafeLoader and len(text) <= MAX_REPARSE and \
            any(d.message.startswith("YAML ") for d in found.items):
        # libyaml words syntax errors tersely; the pure-Python parser names the character or token it met.
        found = Diagnostics()
        docs = _compose(text, name, found, yaml.SafeLoader)
    diags.extend(found)
    return docs


def _compose(text: str, name: str, diags: Diagnostics, loader_class) -> list[Document]:
    # libyaml composes in C recursion: nesting is measured first. The pure-Python composer raises RecursionError.
    deep = scan(text, loader_class, MAX_DEPTH)[0] if loader_class is not yaml.SafeLoader else None
    if deep is not None:
        diags.error(f"nesting deeper than {MAX_DEPTH} levels", source=SourceRange(name, deep.line + 1, deep.column + 1))
        return []
    loader = None
    docs: list[Document] = []
    try:
        loader = loader_class(text)  # the pure-Python reader checks every character here
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            builder = _Builder(name, loader, diags)
            try:
                builder.doc.data = builder.build(node, ())
            except _Stop as stop:
                diags.error(str(stop), source=builder.pos(stop.node))
                return docs
            docs.append(builder.doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceRange(name, mark.line + 1, mark.column + 1) if mark else SourceRange(name, 1, 1)
        diags.error(f"YAML syntax error: {exc.problem or exc.context}", source=where)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - text.rfind("\n", 0, exc.position)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        diags.error(f"YAML error: character {char} is not allowed (write it as an escape in a double-quoted string)",
                    source=SourceRange(name, line, col))
    except yaml.YAMLError as exc:
        diags.error(f"YAML error: {exc}", source=SourceRange(name, 1, 1))
    except RecursionError:
        mark = loader.get_mark()
        diags.error(f"nesting deeper than {MAX_DEPTH} levels", source=SourceRange(name, mark.line + 1, mark.column + 1))
    finally:
        if loader is not None:
            loader.dispose()
    return docs
