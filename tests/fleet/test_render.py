"""The fleet file and `snapplan render`: overlays merged by key, variables, errors at the file that wrote them."""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import EXAMPLES, run_cli, write

BASE = """\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata:
  name: base-${cluster}
storage:
  primary:
    type: aws
    default: true
    bucket: velero-${cluster}
    region: ${region}
    credentials:
      secretRef: {name: cloud-credentials, key: cloud}
apps:
  shop:
    namespaces: [shop, shop-db]
schedules:
  nightly:
    scope: full
    schedule: daily
"""


def fleet(tmp_path: Path, clusters: str, overlays: dict[str, str] | None = None, base: str = BASE) -> Path:
    write(tmp_path / "policy.yaml", base)
    for name, text in (overlays or {}).items():
        write(tmp_path / "overlays" / name, text)
    return write(tmp_path / "fleet.yaml", "apiVersion: snapplan/v1\nkind: Fleet\npolicy: policy.yaml\nclusters:\n"
                 + clusters)


def render(path: Path, cluster: str, capsys, monkeypatch):
    monkeypatch.chdir(path.parent)
    return run_cli(["render", "--fleet", path.name, "--cluster", cluster], capsys, monkeypatch)


def test_overlay_changes_bucket_and_region_and_adds_an_app(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  eu:\n    context: eu\n    region: eu-west-1\n    overlays: [overlays/eu.yaml]\n", {
        "eu.yaml": "storage:\n  primary:\n    bucket: eu-backups\n    region: eu-central-1\n"
                   "apps:\n  payments:\n    namespaces: [payments]\n"})
    r = render(path, "eu", capsys, monkeypatch)
    assert r.code == 0, r.err
    policy = yaml.safe_load(r.out)
    assert policy["storage"]["primary"] == {"type": "aws", "default": True, "bucket": "eu-backups",
                                            "region": "eu-central-1",
                                            "credentials": {"secretRef": {"name": "cloud-credentials", "key": "cloud"}}}
    assert policy["apps"] == {"shop": {"namespaces": ["shop", "shop-db"]}, "payments": {"namespaces": ["payments"]}}
    assert policy["metadata"]["name"] == "base-eu"
    assert r.out.startswith("# Effective policy of cluster eu (fleet fleet): policy.yaml\n#   + overlays/eu.yaml\n")


def test_rendered_policy_is_a_valid_policy_on_its_own(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  us:\n    context: us\n    region: us-east-1\n")
    r = render(path, "us", capsys, monkeypatch)
    out = write(tmp_path / "rendered.yaml", r.out)
    v = run_cli(["validate", "-f", str(out)], capsys, monkeypatch)
    assert v.code == 0, v.err
    assert yaml.safe_load(r.out)["storage"]["primary"]["bucket"] == "velero-us"


def test_lists_are_replaced_whole_and_null_removes_an_entry(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  a:\n    context: a\n    region: r\n    patch:\n      apps:\n"
                           "        shop: {namespaces: [shop]}\n      schedules:\n        nightly: {schedule: hourly, storage: primary}\n"
                           "      storage:\n        primary:\n          default: null\n")
    r = render(path, "a", capsys, monkeypatch)
    assert r.code == 0, r.err
    policy = yaml.safe_load(r.out)
    assert policy["apps"]["shop"]["namespaces"] == ["shop"]
    assert policy["schedules"]["nightly"] == {"scope": "full", "schedule": "hourly", "storage": "primary"}
    assert "default" not in policy["storage"]["primary"]


def test_variable_in_a_name_renames_the_entry(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  east:\n    context: east\n    region: r\n    variables: {tier: gold}\n"
                           "    patch:\n      schedules:\n        ${tier}-${cluster}: {scope: full, schedule: weekly}\n")
    r = render(path, "east", capsys, monkeypatch)
    assert r.code == 0, r.err
    assert set(yaml.safe_load(r.out)["schedules"]) == {"nightly", "gold-east"}


def test_error_in_an_overlay_points_at_the_overlay_line(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  eu:\n    context: eu\n    region: r\n    overlays: [overlays/eu.yaml]\n",
                 {"eu.yaml": "# eu\nschedules:\n  nightly:\n    retention: 90x\n"})
    r = render(path, "eu", capsys, monkeypatch)
    assert r.code == 1
    assert "overlays/eu.yaml:4:16: schedules.nightly.retention: '90x' is not valid here" in r.err
    assert "Traceback" not in r.err


def test_error_in_a_base_value_still_points_at_the_base(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  eu:\n    context: eu\n    region: r\n    overlays: [overlays/eu.yaml]\n",
                 {"eu.yaml": "schedules:\n  nightly:\n    retention: 90d\n"},
                 base=BASE.replace("schedule: daily", "schedule: sometimes"))
    r = render(path, "eu", capsys, monkeypatch)
    assert r.code == 1
    assert r.err.startswith("policy.yaml:19:15: schedules.nightly.schedule:"), r.err


def test_unknown_variable_is_an_error_where_it_is_written(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  eu:\n    context: eu\n    overlays: [overlays/eu.yaml]\n",
                 {"eu.yaml": "storage:\n  primary:\n    bucket: b-${zone}\n"})
    r = render(path, "eu", capsys, monkeypatch)
    assert r.code == 1
    assert "overlays/eu.yaml:3:13: storage.primary.bucket: unknown variable ${zone} (known here: ${cluster}" in r.err
    # ${region} is unknown too: the cluster sets no region; the error is in the base file
    assert "policy.yaml:10:13: storage.primary.region: unknown variable ${region}" in r.err


def test_fleet_file_errors_have_positions(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  eu:\n    contxt: eu\n  Bad_Name:\n    context: x\n  us:\n    region: r\n"
                           "    variables: {cluster: x}\n")
    r = render(path, "eu", capsys, monkeypatch)
    assert r.code == 1
    assert "fleet.yaml:6:5: clusters.eu.contxt: unknown field 'contxt'" in r.err
    assert "fleet.yaml:7:3: clusters.Bad_Name: invalid name 'Bad_Name'" in r.err
    assert r.err.count("error(s)") == 1


def test_cluster_without_context_or_kubeconfig_and_builtin_variable(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  us:\n    region: r\n    variables: {cluster: x}\n")
    r = render(path, "us", capsys, monkeypatch)
    assert r.code == 1
    assert "fleet.yaml:5:3: clusters.us: give the cluster's kubeconfig context" in r.err
    assert "fleet.yaml:7:17: clusters.us.variables.cluster: ${cluster} is set by the fleet" in r.err


def test_unknown_cluster_is_one_line(tmp_path, capsys, monkeypatch):
    path = fleet(tmp_path, "  us:\n    context: us\n    region: r\n")
    r = render(path, "mars", capsys, monkeypatch)
    assert r.code == 1
    assert r.err == "Error: fleet.yaml: no cluster named 'mars' (the fleet has: us)\n"


def test_example_fleet_renders_every_cluster(capsys, monkeypatch):
    monkeypatch.chdir(EXAMPLES / "fleet")
    eu = yaml.safe_load(run_cli(["render", "--fleet", "fleet.yaml", "--cluster", "prod-eu"], capsys, monkeypatch).out)
    assert eu["storage"]["primary"]["bucket"] == "velero-eu-prod-eu"
    assert eu["schedules"]["nightly-full"]["retention"] == "90d"
    staging = yaml.safe_load(run_cli(["render", "--fleet", "fleet.yaml", "--cluster", "staging"], capsys,
                                     monkeypatch).out)
    assert set(staging["schedules"]) == {"nightly-full"} and staging["storage"]["primary"]["region"] == "us-east-1"
