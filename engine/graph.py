"""Changes -> a DAG of actions, built in small ordered steps, then validated. Pure.

An edge u -> v means v runs only after u succeeded. Plans use the plain Dag; apply's walk gets a networkx
DiGraph (build_graph). networkx is imported only there and to name a cycle: it costs 0.1 s of start-up.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from engine.addr import Address
from engine.errors import PlanError
from engine.plan.model import Action, Change

WRITE = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def _refs(obj: dict | None) -> dict[str, set[str]]:
    """Names an object points at, by kind: its credential Secret, its locations, its schedule."""
    out: dict[str, set[str]] = {"Secret": set(), "BackupStorageLocation": set(), "VolumeSnapshotLocation": set(),
                                "Schedule": set()}
    spec = (obj or {}).get("spec") or {}
    if (spec.get("credential") or {}).get("name"):
        out["Secret"].add(spec["credential"]["name"])
    template = spec.get("template") or {}
    if template.get("storageLocation"):
        out["BackupStorageLocation"].add(template["storageLocation"])
    out["VolumeSnapshotLocation"].update(template.get("volumeSnapshotLocations") or ())
    if spec.get("scheduleName"):
        out["Schedule"].add(spec["scheduleName"])
    return out


def refs_of(change: Change, which: str = "after") -> dict[str, set[str]]:
    return _refs(change.after if which == "after" else change.before)


class Dag:
    """Nodes and edges in insertion order; the part of networkx's DiGraph interface that steps and plans use."""

    def __init__(self) -> None:
        self._pred: dict[Address, dict[Address, None]] = {}
        self._succ: dict[Address, dict[Address, None]] = {}

    def add_node(self, node: Address) -> None:
        self._pred.setdefault(node, {})
        self._succ.setdefault(node, {})

    def add_edge(self, first: Address, then: Address) -> None:
        self.add_node(first)
        self.add_node(then)
        self._succ[first][then] = None
        self._pred[then][first] = None

    @property
    def nodes(self) -> list[Address]:
        return list(self._pred)

    def predecessors(self, node: Address) -> Iterable[Address]:
        return iter(self._pred[node])

    def successors(self, node: Address) -> Iterable[Address]:
        return iter(self._succ[node])

    def __contains__(self, node: object) -> bool:
        return node in self._pred

    def number_of_edges(self) -> int:
        return sum(len(s) for s in self._succ.values())

    def to_networkx(self):
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(self._pred)
        g.add_edges_from((u, v) for u, vs in self._succ.items() for v in vs)
        return g


Step = Callable[[Dag, dict[Address, Change]], None]


def _link(g: Dag, by_addr: dict[Address, Change], first: Address, then: Address) -> None:
    if first in by_addr and then in by_addr and first != then:
        g.add_edge(first, then)


def secret_before_location(g, by_addr) -> None:
    for c in by_addr.values():
        if c.action in WRITE and c.address.kind in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            for name in refs_of(c)["Secret"]:
                s = Address("Secret", c.address.namespace, name)
                if by_addr.get(s) and by_addr[s].action in WRITE:
                    _link(g, by_addr, s, c.address)


def location_before_users(g, by_addr) -> None:
    for c in by_addr.values():
        if c.action not in WRITE or c.address.kind not in ("Schedule", "Restore"):
            continue
        refs = refs_of(c)
        for kind in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            for name in refs[kind]:
                loc = Address(kind, c.address.namespace, name)
                if by_addr.get(loc) and by_addr[loc].action in WRITE:
                    _link(g, by_addr, loc, c.address)


def source_before_restore(g, by_addr) -> None:
    new_locations = None  # found once, when a restore names a backup
    for c in by_addr.values():
        if c.action not in WRITE or c.address.kind != "Restore":
            continue
        for name in refs_of(c)["Schedule"]:
            sched = Address("Schedule", c.address.namespace, name)
            _link(g, by_addr, sched, c.address)
            sched_change = by_addr.get(sched)
            for loc in refs_of(sched_change)["BackupStorageLocation"] if sched_change else ():
                _link(g, by_addr, Address("BackupStorageLocation", c.address.namespace, loc), c.address)
        if "backupName" in (c.after or {}).get("spec", {}):
            # The backup may live in any location the plan creates (disaster recovery): wait for them all.
            if new_locations is None:
                new_locations = [o.address for o in by_addr.values() if o.address.kind == "BackupStorageLocation"
                                 and o.action in (Action.CREATE, Action.REPLACE)]
            for loc in new_locations:
                _link(g, by_addr, loc, c.address)


def users_before_location_delete(g, by_addr) -> None:
    users: dict[tuple[str, str], list[Address]] | None = None  # (location kind, name) -> schedules, built once
    for c in by_addr.values():
        if c.action is not Action.DELETE or c.address.kind not in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            continue
        if users is None:
            users = {}
            for user in by_addr.values():
                if user.address.kind == "Schedule":
                    for kind, names in refs_of(user, "before").items():
                        for name in names:
                            users.setdefault((kind, name), []).append(user.address)
        for user in users.get((c.address.kind, c.address.name), ()):
            _link(g, by_addr, user, c.address)


def location_delete_before_secret_delete(g, by_addr) -> None:
    for c in by_addr.values():
        if c.action is Action.DELETE and c.address.kind in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            for name in refs_of(c, "before")["Secret"]:
                s = Address("Secret", c.address.namespace, name)
                if by_addr.get(s) and by_addr[s].action is Action.DELETE:
                    _link(g, by_addr, c.address, s)


def _default(obj: dict | None) -> bool:
    return bool(((obj or {}).get("spec") or {}).get("default"))


def default_off_before_default_on(g, by_addr) -> None:
    """Velero keeps one default location: with two marked, the most recently created keeps it and the
    others are set to false (backup_storage_location_controller.go ensureSingleDefaultBSL). Setting the new
    default first could make Velero clear it, and clearing the old one next would leave none: clear first.
    (A deleted old default is not ordered here: its schedules move to the new location first.)"""
    off = [c.address for c in by_addr.values() if c.address.kind == "BackupStorageLocation"
           and c.action in (Action.UPDATE, Action.REPLACE) and _default(c.before) and not _default(c.after)]
    if not off:
        return
    for c in by_addr.values():
        if c.address.kind == "BackupStorageLocation" and c.action in WRITE and _default(c.after) \
                and not _default(c.before if c.action is Action.UPDATE else None):
            for old in off:
                _link(g, by_addr, old, c.address)


STEPS: tuple[Step, ...] = (
    secret_before_location,
    default_off_before_default_on,
    location_before_users,
    source_before_restore,
    users_before_location_delete,
    location_delete_before_secret_delete,
)


def dependencies(changes: Iterable[Change], steps: tuple[Step, ...] = STEPS) -> Dag:
    """The DAG of every change that does something; PlanError on a cycle, naming it."""
    by_addr = {c.address: c for c in changes if c.action is not Action.NOOP}
    g = Dag()
    for addr in sorted(by_addr, key=Address.sort_key):
        g.add_node(addr)
    for step in steps:
        step(g, by_addr)
    ordered(g)  # raises PlanError on a cycle
    return g


def build_graph(changes: Iterable[Change], steps: tuple[Step, ...] = STEPS):
    """dependencies() as a networkx DiGraph (for apply's walk); PlanError on a cycle."""
    return dependencies(changes, steps).to_networkx()


def check_acyclic(g) -> None:
    """PlanError naming a cycle of a networkx DiGraph, found from a stable starting node."""
    import networkx as nx

    for start in sorted(g.nodes, key=Address.sort_key):
        try:
            cycle = nx.find_cycle(g, source=start)
        except nx.NetworkXNoCycle:
            continue
        path = " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"
        raise PlanError([f"the actions depend on each other in a cycle: {path}"])


def ordered(g) -> list[Address]:
    """A deterministic topological order of a Dag or DiGraph: among ready nodes, lowest kind rank then name
    first (networkx's lexicographical_topological_sort, in one pass). PlanError naming a cycle if there is one."""
    waiting = {n: sum(1 for _ in g.predecessors(n)) for n in g.nodes}
    ready = [(n.sort_key(), n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    out: list[Address] = []
    while ready:
        _, node = heapq.heappop(ready)
        out.append(node)
        for succ in g.successors(node):
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(ready, (succ.sort_key(), succ))
    if len(out) < len(waiting):
        check_acyclic(g.to_networkx() if isinstance(g, Dag) else g)
        raise PlanError(["the actions depend on each other in a cycle"])  # not reached: check_acyclic names it
    return out
