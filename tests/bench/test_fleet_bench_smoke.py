"""The fleet benchmark's machinery at a tiny size: three clusters, end to end. Says nothing about speed."""
from __future__ import annotations

import json

from bench.fleet import main
from engine.state.kube import READS


def test_tiny_fleet_benchmark_checks_every_cluster_and_counts_requests(tmp_path, capsys):
    out = tmp_path / "fleet.json"
    code = main(["--clusters", "3", "--objects", "40", "--repeat", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert [t["name"].split(":")[0].split(",")[0] for t in results["targets"]] == [
        "plan --fleet of 3 clusters vs one cluster's plan", "peak RSS", "API requests per cluster"]
    assert code == (0 if all(t["ok"] for t in results["targets"]) else 1)
    # what snapplan did, not how fast: one LIST per kind in every cluster, during one fleet plan
    assert results["requests_per_cluster"]["min"] == results["requests_per_cluster"]["max"] == len(READS)
    assert all(k.startswith("list ") for k in results["requests_per_cluster"]["by_resource"])
    assert results["fleet"]["rss_mb"] > 0 and results["single"]["wall_s"] > 0
    assert printed.count("PASS") + printed.count("FAIL") == 3
