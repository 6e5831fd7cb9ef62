"""The benchmark's machinery at a tiny size: it runs end to end, checks what snapplan did, and reports every
target. Proves the script works; says nothing about speed (the timings at this size are noise)."""
from __future__ import annotations

import json

from bench import report
from bench.run import main
from bench.workload import WORKLOAD_A, WORKLOAD_B, Sizes, applied_objects, backup_name, policy_doc, write_policy
from engine.state.kube import READS


def test_tiny_benchmark_run_reports_every_target(tmp_path, capsys):
    out = tmp_path / "results.json"
    code = main(["--sizes", "120,160", "--b-size", "160", "--a-schedules", "10", "--b-schedules", "20",
                 "--b-storage", "4", "--restores", "3", "--repeat", "1", "--apply-creates", "4", "--out", str(out)])
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    targets = results["targets"]
    assert [t["name"].split(" (")[0] for t in targets] == [
        "plan / floor, workload A", "plan / floor, workload B", "API requests per plan",
        "apply 4 creates, 20 ms/request: --parallelism 8 / 1, whole run", "snapplan plan --help / python3 -c pass",
        "peak RSS plan / floor, workload A", "plan time per 1,000 more objects / floor's, workload A"]
    assert code == (0 if all(t["ok"] for t in targets) else 1)
    assert printed.count("PASS") + printed.count("FAIL") == len(targets)
    # What snapplan did, not how fast: one LIST per kind it reads, at every size of both workloads.
    assert [(p["workload"], p["n"], p["requests"]["total"]) for p in results["a"] + results["b"]] == [
        ("A", 120, len(READS)), ("A", 160, len(READS)), ("B", 160, len(READS))]
    assert all(k.startswith("list ") for p in results["a"] for k in p["requests"]["by_resource"])
    top = results["a"][-1]
    assert top["plan"]["rss_mb"] > 0 and top["floor"]["wall_s"] > 0 and top["paired_ratio"] > 0
    assert results["b"][0]["schedules"] == 20 and results["b"][0]["storage"] == 4
    assert results["apply"]["p1"]["wall_s"] > 0 and len(results["apply"]["nothing"]["runs_s"]) == 1
    assert set(results["startup"]) == {"python", "help", "plan_help"}


def test_workload_grows_by_adding_objects_only(tmp_path):
    for shape in (WORKLOAD_A, WORKLOAD_B):
        small, large = Sizes.of(3000, shape), Sizes.of(6000, shape)
        assert small.objects == 3000 and large.objects == 6000
        a = policy_doc(small, planned=False)
        b = policy_doc(large, planned=False)
        for section in ("apps", "storage", "snapshotLocations", "schedules", "restores"):
            assert a[section] == b[section], section
        assert {backup_name(j, small) for j in range(small.backups)} <= {backup_name(j, large)
                                                                         for j in range(large.backups)}
    assert len(policy_doc(Sizes.of(60000, WORKLOAD_B), planned=False)["schedules"]) == 1000
    assert len(policy_doc(Sizes.of(60000, WORKLOAD_B), planned=False)["storage"]) == 200
    small = Sizes.of(1000)
    objects = applied_objects(write_policy(tmp_path / "p", small, planned=False))
    assert len(objects) == small.objects - small.backups
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "snapplan" for o in objects)


def test_planned_restores_from_schedule_name_schedules_that_have_backups():
    sizes = Sizes.of(10000)
    planned = policy_doc(sizes, planned=True)["restores"]
    from_schedule = [r["from"]["schedule"] for r in planned.values() if "schedule" in r["from"]]
    assert len(from_schedule) == sizes.restores + sizes.new_restores == 100
    have_backups = {backup_name(j, sizes).rsplit("-", 1)[0] for j in range(sizes.backups)}
    assert set(from_schedule) <= have_backups


def _point(n, plan_s, floor_s):
    return {"n": n, "objects": n, "plan": {"wall_s": plan_s}, "floor": {"wall_s": floor_s}}


def test_growth_target_compares_plan_slope_with_the_floors():
    linear = report._growth([_point(10000, 1.5, 1.2), _point(100000, 10.5, 9.0)])  # 100 vs 87 ms per 1,000
    steeper = report._growth([_point(10000, 1.5, 1.2), _point(100000, 15.5, 9.0)])  # 156 vs 87
    assert linear.ok and not steeper.ok
    assert "100.0 ms vs 86.7 ms" in linear.measured
