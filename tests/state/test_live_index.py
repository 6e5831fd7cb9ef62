"""LiveState answers per-kind and per-schedule questions from an index; these pin that the answers stay what a
plain scan of `objects` gives, through the edits the state-file writer makes in place."""
from __future__ import annotations

from engine.addr import Address
from engine.state.live import LiveState


def _backup(name, schedule=None, ns=None):
    meta = {"name": name, **({"namespace": ns} if ns else {}),
            **({"labels": {"velero.io/schedule-name": schedule}} if schedule else {})}
    return {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": meta}


def _scan(live, kind, ns):
    return [o for a, o in live.objects.items() if a.kind == kind and a.namespace == ns]


def test_listed_objects_are_indexed_like_added_ones():
    one, two = LiveState("a"), LiveState("b")
    items = [_backup("b1", "nightly"), _backup("b2", "hourly"), _backup("b3", "nightly", ns="other"),
             _backup("b4")]
    for obj in items:
        one.add(dict(obj, metadata=dict(obj["metadata"])), "velero")
    two.add_list("Backup", items, "velero")
    assert list(one.objects) == list(two.objects)
    for live in (one, two):
        assert [o["metadata"]["name"] for o in live.of_kind("Backup", "velero")] == ["b1", "b2", "b4"]
        assert [o["metadata"]["name"] for o in live.backups_of_schedule("velero", "nightly")] == ["b1"]
        assert [o["metadata"]["name"] for o in live.backups_of_schedule("other", "nightly")] == ["b3"]
        assert live.backups_by_schedule("velero") == {"nightly": 1, "hourly": 1, None: 1}


def test_a_name_listed_twice_keeps_the_later_object_once():
    live = LiveState("x")
    live.add_list("Backup", [_backup("b1", "nightly"), _backup("b1", "hourly")], "velero")
    assert [o["metadata"]["labels"] for o in live.of_kind("Backup", "velero")] == [
        {"velero.io/schedule-name": "hourly"}]
    assert live.backups_of_schedule("velero", "nightly") == []


def test_answers_follow_edits_made_to_objects_in_place():
    live = LiveState("x")
    live.add_list("Backup", [_backup("b1", "nightly"), _backup("b2", "nightly")], "velero")
    assert len(live.backups_of_schedule("velero", "nightly")) == 2  # the index is built now
    b1 = Address("Backup", "velero", "b1")
    live.objects[b1] = _backup("b1", "hourly", ns="velero")  # replaced (a patch)
    del live.objects[Address("Backup", "velero", "b2")]  # deleted
    live.objects[Address("Backup", "velero", "b9")] = _backup("b9", "nightly", ns="velero")  # created
    assert live.of_kind("Backup", "velero") == _scan(live, "Backup", "velero")
    assert [o["metadata"]["name"] for o in live.backups_of_schedule("velero", "nightly")] == ["b9"]
    assert [o["metadata"]["name"] for o in live.backups_of_schedule("velero", "hourly")] == ["b1"]
    live.objects.pop(b1)
    assert live.backups_of_schedule("velero", "hourly") == []


def test_newest_completed_orders_every_timestamp_spelling_in_utc():
    from engine.plan.restores import newest_completed

    def b(name, started, phase="Completed"):
        obj = _backup(name, "nightly")
        obj["status"] = {"phase": phase, **({"startTimestamp": started} if started else {})}
        return obj

    live = LiveState("x")
    live.add_list("Backup", [
        b("canonical", "2026-11-24T23:00:00Z"),
        b("offset", "2026-11-24T23:30:00+01:00"),  # 22:30 UTC: older than "canonical"
        b("fraction", "2026-11-24T23:00:00.500000Z"),  # half a second after "canonical"
        b("unknown", None),
        b("failed-newest", "2026-11-25T01:00:00Z", phase="Failed"),
    ], "velero")
    newest, skipped = newest_completed(live, "velero", "nightly")
    assert newest["metadata"]["name"] == "fraction"
    assert [s["metadata"]["name"] for s in skipped] == ["failed-newest"]
    live.objects.pop(Address("Backup", "velero", "fraction"))
    live.objects.pop(Address("Backup", "velero", "canonical"))
    assert newest_completed(live, "velero", "nightly")[0]["metadata"]["name"] == "offset"
