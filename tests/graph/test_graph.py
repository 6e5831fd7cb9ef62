"""The action DAG: secrets before locations, locations before schedules, users before location deletes."""
from __future__ import annotations

import pytest

from engine.addr import Address
from engine.errors import PlanError
from engine.graph import build_graph, ordered
from engine.plan.model import Action, Change


def ch(kind, name, action, after=None, before=None):
    return Change(Address(kind, "velero", name), action, before, after)


def bsl(secret=None):
    spec = {"provider": "aws"}
    if secret:
        spec["credential"] = {"name": secret, "key": "cloud"}
    return {"spec": spec}


def sched(location):
    return {"spec": {"template": {"storageLocation": location}}}


def test_create_order_secret_location_schedule_restore():
    changes = [
        ch("Restore", "r", Action.CREATE, {"spec": {"scheduleName": "s"}}),
        ch("Schedule", "s", Action.CREATE, sched("loc")),
        ch("BackupStorageLocation", "loc", Action.CREATE, bsl("cred")),
        ch("Secret", "cred", Action.CREATE, {}),
    ]
    g = build_graph(changes)
    assert [str(a) for a in ordered(g)] == ["secret.cred", "bsl.loc", "schedule.s", "restore.r"]
    assert set(g.predecessors(Address("Restore", "velero", "r"))) == {
        Address("Schedule", "velero", "s"), Address("BackupStorageLocation", "velero", "loc")}


def test_moving_a_schedule_then_deleting_the_old_location_and_its_secret():
    changes = [
        ch("Secret", "old-cred", Action.DELETE, before={}),
        ch("BackupStorageLocation", "old", Action.DELETE, before=bsl("old-cred")),
        ch("BackupStorageLocation", "new", Action.CREATE, bsl()),
        ch("Schedule", "s", Action.UPDATE, sched("new"), sched("old")),
    ]
    order = [str(a) for a in ordered(build_graph(changes))]
    assert order.index("bsl.new") < order.index("schedule.s") < order.index("bsl.old") < order.index("secret.old-cred")


def test_independent_actions_have_no_edges_and_sort_stably():
    changes = [ch("Schedule", n, Action.CREATE, sched("x")) for n in ("b", "a", "c")]
    g = build_graph(changes)
    assert g.number_of_edges() == 0
    assert [a.name for a in ordered(g)] == ["a", "b", "c"]


def test_restore_from_a_backup_waits_for_new_locations():
    changes = [ch("Restore", "dr", Action.CREATE, {"spec": {"backupName": "b1"}}),
               ch("BackupStorageLocation", "old-bucket", Action.CREATE, bsl())]
    assert [str(a) for a in ordered(build_graph(changes))] == ["bsl.old-bucket", "restore.dr"]


def test_a_cycle_is_reported_from_a_stable_start():
    def loop(g, by_addr):
        a, b = Address("Schedule", "velero", "a"), Address("Schedule", "velero", "b")
        g.add_edge(a, b)
        g.add_edge(b, a)

    changes = [ch("Schedule", "b", Action.CREATE, sched("x")), ch("Schedule", "a", Action.CREATE, sched("x"))]
    with pytest.raises(PlanError) as exc:
        build_graph(changes, steps=(loop,))
    assert str(exc.value) == "the actions depend on each other in a cycle: schedule.a -> schedule.b -> schedule.a"
