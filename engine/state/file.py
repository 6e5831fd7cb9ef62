"""Read a cluster-state file: what `kubectl get ... -o yaml|json` exports (a List, or several documents).

A state file is input like any other and may be hostile. Reading is bounded (nesting, what aliases expand
to), only plain YAML is read (no !!python tags), and every object handed on has the shape the diff relies
on (engine/state/shape.py). Each problem is one StateError naming the file and, for YAML, the line.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from engine.errors import StateError, clip, printable
from engine.limits import MIB, STATE_JSON, STATE_YAML, read_bounded
from engine.state.live import LiveState
from engine.state.shape import ShapeError, check_object
from engine.yamlscan import scan

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a busy cluster's export is tens of MB
MAX_DEPTH = 100  # Kubernetes objects nest ~20 deep. libyaml's composer recurses in C: a deeper file crashes it
MAX_ALIASED = 100_000  # values aliases may add to those written: kubectl writes no aliases, a bomb adds billions
_CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}


def _read_bounded(path: Path) -> tuple[bytes, bool]:
    """(the file's bytes, whether it is JSON), refused past its format's size bound (engine.limits)."""
    try:
        with open(path, "rb") as fh:
            is_json = fh.read(4096).lstrip().startswith(b"{")  # the reader's own test of the format
        limit = STATE_JSON if is_json else STATE_YAML
        most = limit.mib() * MIB
        raw, size = read_bounded(path, most)
    except FileNotFoundError:
        raise StateError(f"{path}: state file not found") from None
    except OSError as exc:
        raise StateError(f"{path}: cannot read state file: {exc.strerror or exc}") from None
    if (size or 0) > most or len(raw) > most:
        raise StateError(limit.too_big(str(path), size))
    return raw, is_json


def read_state_file(path: str | Path, default_namespace: str = "velero") -> LiveState:
    path = Path(path)
    raw, is_json = _read_bounded(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StateError(f"{path}:{line}: state file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    del raw  # one copy of the file at a time: memory stays a small multiple of its size
    if is_json:
        docs = [(_json(text, path), None)]
    else:
        docs = _yaml_documents(text, path)
    state = LiveState(source=str(path))
    for number, (doc, node) in enumerate(docs, start=1):
        where = _Where(path, node, number if len(docs) > 1 else 0)
        for obj, at in _objects(doc, (), where):
            try:
                check_object(obj)
            except ShapeError as exc:
                raise StateError(f"{where(at + exc.path)}: {exc}") from None
            state.add(obj, default_namespace)
    return state


def _objects(doc, at: tuple, where):
    """(object, its path in the document) for a document that is an object or a List of them."""
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise StateError(f"{where(at)}: not a Kubernetes object or List (a {type(doc).__name__})")
    kind = doc.get("kind", "List")
    if "items" in doc and isinstance(kind, str) and kind.endswith("List"):
        items = doc.get("items") or []
        if not isinstance(items, list):
            raise StateError(f"{where(at + ('items',))}: must be a list of objects")
        item_kind = kind[: -len("List")]
        for i, item in enumerate(items):
            if isinstance(item, dict) and item_kind and "kind" not in item:
                item = {**item, "kind": item_kind, "apiVersion": doc.get("apiVersion")}
            yield from _objects(item, at + ("items", i), where)
        return
    yield doc, at


class _Where:
    """`FILE:LINE:COL: items[3].metadata` for a path in a document (FILE: document N: ... for JSON)."""

    def __init__(self, path: Path, node: yaml.Node | None, number: int):
        self.path, self.node, self.number = path, node, number

    def __call__(self, at: tuple) -> str:
        dotted = printable("".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in at).lstrip("."))
        if self.node is None:
            parts = [str(self.path), f"document {self.number}" if self.number else "", dotted]
        else:
            mark = _node_at(self.node, at).start_mark
            parts = [f"{self.path}:{mark.line + 1}:{mark.column + 1}", dotted]
        return ": ".join(p for p in parts if p)


def _node_at(node: yaml.Node, at: tuple) -> yaml.Node:
    """The node a path leads to, or the deepest one on the way that was written."""
    for key in at:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            if not found:
                break
            node = found[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node


def _json(text: str, path: Path):
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise StateError(f"{path}: invalid JSON: nesting deeper than {MAX_DEPTH} levels") from None
    except _DuplicateKey as exc:
        raise StateError(f"{path}: invalid JSON: {exc}") from None
    except ValueError:  # int() refuses numbers of more than 4300 digits
        raise StateError(f"{path}: invalid JSON: a number has too many digits") from None
    stack = [(data, 1)]
    while stack:  # json.loads nests as deep as Python's recursion limit; the diff recurses too
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise StateError(f"{path}: invalid JSON: nesting deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return data


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(f"duplicate key {clip(key)}")
    return out


def _yaml_documents(text: str, path: Path) -> list[tuple[object, yaml.Node]]:
    deep, aliases = scan(text, _Loader, MAX_DEPTH)
    if deep is not None:
        raise StateError(f"{path}:{deep.line + 1}:{deep.column + 1}: nesting deeper than {MAX_DEPTH} levels")
    loader = None
    docs = []
    try:
        loader = _Loader(text)
        while loader.check_node():
            node = loader.get_node()
            docs.append((_Builder(loader, path, aliases).build(node), node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise StateError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the position in UTF-8 bytes, the pure-Python reader in characters
        before = text.encode("utf-8")[: exc.position].decode("utf-8", "replace") if _Loader is not yaml.SafeLoader \
            else text[: exc.position]
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise StateError(f"{path}:{before.count(chr(10)) + 1}: invalid YAML: character {char} is not allowed") \
            from None
    except yaml.YAMLError as exc:
        raise StateError(f"{path}: invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return docs


class _Builder:
    """Plain data from one document's nodes. An alias shares the value of its anchor (never a copy), but what it
    would expand to is counted, so a bomb is refused before json.dumps or the diff walks it. Without aliases
    (kubectl writes none) nothing is shared and nothing needs remembering."""

    def __init__(self, loader, path: Path, aliases: bool):
        self.loader, self.path, self.aliases = loader, path, aliases
        self.built: dict[int, tuple[object, int, int]] = {}  # id(collection node) -> (value, expanded size, depth)
        self.open: set[int] = set()
        self.written = 0
        self.scalars = {_CORE + "int": loader.construct_yaml_int, _CORE + "float": loader.construct_yaml_float,
                        _CORE + "bool": loader.construct_yaml_bool, _CORE + "null": lambda node: None}

    def fail(self, node: yaml.Node, message: str) -> StateError:
        return StateError(f"{self.path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {message}")

    def build(self, node: yaml.Node) -> object:
        return self._build(node)[0]

    def _build(self, node: yaml.Node) -> tuple[object, int, int]:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node), 1, 0
        if not self.aliases:
            return self._collection(node)
        if id(node) in self.built:
            return self.built[id(node)]
        if id(node) in self.open:
            raise self.fail(node, "an alias refers to the node that contains it (a recursive anchor)")
        self.open.add(id(node))
        self.written += len(node.value) + 1
        result = self._collection(node)
        self.open.discard(id(node))
        if result[1] > self.written + MAX_ALIASED:
            raise self.fail(node, f"aliases expand to more than {MAX_ALIASED} values (an alias bomb?)")
        if result[2] > MAX_DEPTH:
            raise self.fail(node, f"aliases nest deeper than {MAX_DEPTH} levels")
        self.built[id(node)] = result
        return result

    def _collection(self, node: yaml.Node) -> tuple[object, int, int]:
        if node.tag not in (_CORE + "map", _CORE + "seq"):
            raise self.fail(node, f"tag {_tag(node.tag)} is not allowed in a state file")
        size, depth = 1, 0
        if isinstance(node, yaml.SequenceNode):
            out: list | dict = []
            for child in node.value:
                value, n, d = self._build(child)
                out.append(value)
                size, depth = size + n, max(depth, d)
            return out, size, depth + 1
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                raise self.fail(key_node, "merge keys (<<) are not supported in a state file")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in SCALAR_TAGS:
                raise self.fail(key_node, "mapping keys must be plain text")
            if key_node.value in out:
                raise self.fail(key_node, f"duplicate key {clip(key_node.value)}")
            value, n, d = self._build(value_node)
            out[key_node.value] = value
            size, depth = size + n, max(depth, d)
        return out, size, depth + 1

    def _scalar(self, node: yaml.ScalarNode) -> object:
        if node.tag not in SCALAR_TAGS:
            raise self.fail(node, f"tag {_tag(node.tag)} is not allowed in a state file")
        construct = self.scalars.get(node.tag)
        if construct is None:
            return node.value  # text; timestamps and binary stay the text kubectl wrote
        try:
            return construct(node)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            raise self.fail(node, f"{clip(node.value)} is not a valid {_tag(node.tag)}; quote it if it is text") \
                from None


def _tag(tag: str) -> str:
    return printable("!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag, 60)
