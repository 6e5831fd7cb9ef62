"""The benchmark's machinery at a tiny size: it runs end to end, checks what snapplan did, and reports every
target. Proves the script works; says nothing about speed (the timings at this size are noise)."""
from __future__ import annotations

import json

from bench import report
from bench.run import main
from bench.workload import Sizes, applied_objects, backup_name, policy_doc, write_policy
from engine.state.kube import READS


def test_tiny_benchmark_run_reports_every_target(tmp_path, capsys):
    out = tmp_path / "results.json"
    code = main(["--sizes", "40,80", "--repeat", "1", "--apply-creates", "4", "--out", str(out)])
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    targets = results["targets"]
    assert [t["name"].split(" (")[0] for t in targets] == [
        "plan vs floor", "API requests per plan", "apply 4 creates, 20 ms/request: --parallelism 8 vs 1",
        "peak RSS plan vs floor", "snapplan --help vs python -c pass", "plan growth"]
    assert code == (0 if all(t["ok"] for t in targets) else 1)
    assert printed.count("PASS") + printed.count("FAIL") == len(targets)
    # What snapplan did, not how fast: one LIST per kind it reads, at every size.
    assert [(r["n"], r["total"]) for r in results["requests"]] == [(40, len(READS)), (80, len(READS))]
    assert all(k.startswith("list ") for r in results["requests"] for k in r["by_resource"])
    main_point = results["main"]
    assert main_point["n"] == 80 and main_point["plan"]["rss_mb"] > 0 and main_point["floor"]["wall_s"] > 0
    assert results["apply"]["p1"]["wall_s"] > 0 and len(results["apply"]["nothing"]["runs_s"]) == 1


def test_workload_grows_by_adding_objects_only(tmp_path):
    small, large = Sizes.of(1000), Sizes.of(3000)
    assert small.objects == 1000 and large.objects == 3000
    a = policy_doc(small, planned=False)
    b = policy_doc(large, planned=False)
    for section in ("apps", "storage", "snapshotLocations", "schedules", "restores"):
        assert all(b[section][name] == entry for name, entry in a[section].items()), section
    assert backup_name(small.backups - 1) in {backup_name(j) for j in range(large.backups)}
    objects = applied_objects(write_policy(tmp_path / "p", small, planned=False))
    assert len(objects) == small.objects - small.backups
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "snapplan" for o in objects)


def _point(n, plan_s):
    return {"n": n, "objects": n, "plan": {"wall_s": plan_s, "cpu_runs_s": [plan_s + 0.2, plan_s]}}


def test_growth_target_tells_linear_from_quadratic():
    linear = report._growth([_point(1000, 0.6), _point(10000, 1.5), _point(50000, 5.5)])
    quadratic = report._growth([_point(1000, 0.6), _point(10000, 1.5), _point(50000, 16.0)])
    assert linear.ok and not quadratic.ok
    assert "ms per 1,000 more objects" in linear.measured
