"""Changes -> a networkx DAG of actions, built in small ordered steps, then validated. Pure.

An edge u -> v means v runs only after u succeeded.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import networkx as nx

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


Step = Callable[[nx.DiGraph, dict[Address, Change]], None]


def _link(g: nx.DiGraph, by_addr: dict[Address, Change], first: Address, then: Address) -> None:
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
            for other in by_addr.values():
                if other.address.kind == "BackupStorageLocation" and other.action in (Action.CREATE, Action.REPLACE):
                    _link(g, by_addr, other.address, c.address)


def users_before_location_delete(g, by_addr) -> None:
    for c in by_addr.values():
        if c.action is not Action.DELETE or c.address.kind not in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            continue
        for user in by_addr.values():
            if user.address.kind == "Schedule" and c.address.name in refs_of(user, "before")[c.address.kind]:
                _link(g, by_addr, user.address, c.address)


def location_delete_before_secret_delete(g, by_addr) -> None:
    for c in by_addr.values():
        if c.action is Action.DELETE and c.address.kind in ("BackupStorageLocation", "VolumeSnapshotLocation"):
            for name in refs_of(c, "before")["Secret"]:
                s = Address("Secret", c.address.namespace, name)
                if by_addr.get(s) and by_addr[s].action is Action.DELETE:
                    _link(g, by_addr, c.address, s)


STEPS: tuple[Step, ...] = (
    secret_before_location,
    location_before_users,
    source_before_restore,
    users_before_location_delete,
    location_delete_before_secret_delete,
)


def build_graph(changes: Iterable[Change], steps: tuple[Step, ...] = STEPS) -> nx.DiGraph:
    """The DAG of every change that does something; PlanError on a cycle, naming it."""
    by_addr = {c.address: c for c in changes if c.action is not Action.NOOP}
    g = nx.DiGraph()
    for addr in sorted(by_addr, key=Address.sort_key):
        g.add_node(addr)
    for step in steps:
        step(g, by_addr)
    check_acyclic(g)
    return g


def check_acyclic(g: nx.DiGraph) -> None:
    for start in sorted(g.nodes, key=Address.sort_key):
        try:
            cycle = nx.find_cycle(g, source=start)
        except nx.NetworkXNoCycle:
            continue
        path = " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"
        raise PlanError([f"the actions depend on each other in a cycle: {path}"])


def ordered(g: nx.DiGraph) -> list[Address]:
    """A deterministic topological order: among ready nodes, lowest kind rank then name first."""
    return list(nx.lexicographical_topological_sort(g, key=lambda a: a.sort_key()))
