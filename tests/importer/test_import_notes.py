"""Import, piece by piece: ttl to retention, cron to presets, app slugs, policy names, what is left out and why."""
from __future__ import annotations

import pytest

from engine.importer import ImportProblem, import_policy
from engine.importer.schedules import derive_slug, retention_of, schedule_expression
from engine.state.live import LiveState
from engine.state.server import ServerDefaults
from engine.times import Duration

V1 = "velero.io/v1"


def notes_of(fn, *args):
    notes: list[str] = []
    return fn(*args, notes.append), notes


@pytest.mark.parametrize("ttl, retention, note", [
    ("720h0m0s", "30d", None), ("336h0m0s", "14d", None), ("72h0m0s", "3d", None), ("36h0m0s", "36h", None),
    # Durations by value: Velero's own spelling, a shorter Go spelling and the policy's are one retention
    ("720h", "30d", None), ("1h30m0s", "1h30m", None), ("10m0s", "10m", None), ("90m", "1h30m", None),
    # Velero reads a zero or missing ttl as its server default (--default-backup-ttl, 720h unless changed)
    ("0s", "30d", None), ("0h0m0s", "30d", None), (None, "30d", None),
    ("forever", "30d", "not a duration Velero reads"),
])
def test_ttl_back_to_retention(ttl, retention, note):
    got, notes = notes_of(retention_of, ttl, ServerDefaults())
    assert got.policy_text() == retention
    assert (note is None and notes == []) or (note is not None and note in notes[0])


def test_zero_ttl_takes_the_servers_default_ttl():
    got, notes = notes_of(retention_of, "0s", ServerDefaults(ttl=Duration.parse("240h"), source="the velero "
                                                                                          "Deployment's flags"))
    assert got.policy_text() == "10d"
    assert "server default 240h0m0s (--default-backup-ttl, from the velero Deployment's flags)" in notes[0]


@pytest.mark.parametrize("value, expected, note", [
    ("0 0 * * *", ("daily", None), None),
    ("0 * * * *", ("hourly", None), None),
    ("0 0 1 * *", ("monthly", None), None),
    ("CRON_TZ=Europe/Berlin 0 0 * * 0", ("weekly", "Europe/Berlin"), None),
    ("CRON_TZ=America/New_York 15 3 * * 1-5", ("15 3 * * 1-5", "America/New_York"), None),
    ("TZ=Asia/Tokyo 0 0 * * *", ("daily", "Asia/Tokyo"), "TZ= is written CRON_TZ="),
    ("@every 6h", ("@every 6h", None), None),
    ("@daily", ("daily", None), "@daily is written as the cron line '0 0 * * *'"),
    ("0 0 2 * * *", None, "not imported: cron '0 0 2 * * *' has 6 fields"),
    ("CRON_TZ=Mars/Base 0 0 * * *", None, "not imported: unknown timezone 'Mars/Base'"),
])
def test_cron_back_to_presets_and_timezones(value, expected, note):
    got, notes = notes_of(schedule_expression, value)
    assert got == expected
    assert (note is None and notes == []) or (note is not None and note in notes[0])


def test_app_slugs_from_namespaces():
    assert derive_slug(["harness", "harness-db"]) == "harness"
    assert derive_slug(["shop-web", "shop-db"]) == "shop"
    assert derive_slug(["billing", "ledger"]) == "billing"


def state(*objects: dict) -> LiveState:
    live = LiveState("state.yaml")
    for obj in objects:
        live.add(obj, "velero")
    return live


def bsl(name: str, provider: str = "aws", config=None, labels=None, annotations=None, **spec) -> dict:
    return {"apiVersion": V1, "kind": "BackupStorageLocation",
            "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"provider": provider, "objectStorage": {"bucket": f"{name}-bucket"},
                     "config": config if config is not None else {"region": "eu-west-1"}, **spec}}


def schedule(name: str, **template) -> dict:
    return {"apiVersion": V1, "kind": "Schedule", "metadata": {"name": name},
            "spec": {"schedule": "0 0 * * *", "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s", **template}}}


MANAGED = {"app.kubernetes.io/managed-by": "snapplan"}


def test_the_policy_name_comes_from_managed_objects_or_name():
    one = state(bsl("a", labels=MANAGED, annotations={"snapplan.io/policy": "team-a"}), bsl("b"))
    assert import_policy(one).name == "team-a"
    with pytest.raises(ImportProblem, match="no object in namespace velero of state.yaml is managed by snapplan"):
        import_policy(state(bsl("b")))
    two = state(bsl("a", labels=MANAGED, annotations={"snapplan.io/policy": "team-a"}),
                bsl("c", labels=MANAGED, annotations={"snapplan.io/policy": "team-c"}))
    with pytest.raises(ImportProblem, match=r"managed by several policies \(team-a, team-c\): pass --name"):
        import_policy(two)
    picked = import_policy(two, name="team-c")
    assert list(picked.document["storage"]) == ["c"] and picked.not_imported == ("bsl.a",)
    assert "not imported: managed by policy 'team-a' (import it with --name team-a)" in str(picked.notes[0])


def test_what_the_policy_cannot_describe_is_left_out_with_a_reason():
    result = import_policy(state(
        bsl("default", default=True),
        bsl("swift", provider="community.openstack.org/openstack", config={}),
        bsl("Upper.Case"),
        schedule("on-swift", storageLocation="swift"),
        schedule("six-fields", storageLocation="default") | {"spec": {"schedule": "0 0 2 * * *", "template": {}}},
        schedule("no-location"),
    ), name="p")
    assert result.not_imported == ("bsl.Upper.Case", "bsl.swift", "schedule.on-swift", "schedule.six-fields")
    by_entry = {n.entry: n.message for n in result.notes}
    assert by_entry["bsl.swift"].startswith("not imported: provider 'community.openstack.org/openstack' is not one")
    assert by_entry["schedule.on-swift"] == "not imported: its storage location 'swift' is not imported"
    assert "template.storageLocation is not set: its backups go to Velero's default location 'default' (the " \
           "location marked default: true); snapplan writes it, the policy's default storage: the same location" \
        in [n.message for n in result.notes if n.entry == "schedules.no-location"]
    assert result.document["schedules"] == {"no-location": {"scope": "full", "schedule": "daily"}}


def test_aws_storage_without_region_is_imported_with_a_warning():
    result = import_policy(state(bsl("nowhere", config={})), name="p")
    assert result.document["storage"]["nowhere"]["region"] == "us-east-1"
    assert "config.region is not set (the aws plugin asks the bucket)" in result.notes[0].message
