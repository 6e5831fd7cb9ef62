"""`python -m bench.fleet`: `snapplan plan --fleet` across many test clusters started in this process (each its
own HTTPS API server), against `snapplan plan` of one of them, measured side by side in one run.

Every cluster holds the objects a policy of about N objects left after an apply and some backups (bench.workload),
grown over HTTP; the fleet's base policy is that policy with the planned changes, so every cluster shows the same
non-empty plan. Reported: wall time and peak RSS of the fleet plan over the single plan (ratios, interleaved runs,
medians), and the API requests each cluster served during one fleet plan (= the kinds snapplan reads).
Exits 1 when a target fails; writes bench/fleet-results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import workload
from bench.measure import CommandFailed, Run, median, run
from bench.populate import HttpClient, create_all
from bench.run import ROOT, child_env, snapplan_cmd
from bench.workload import Sizes

WALL_TARGET = 2.0  # fleet plan wall time / one cluster's plan
RSS_TARGET = 50.0  # fleet plan peak RSS / one cluster's plan (per-cluster memory at most one plan's)


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    p.add_argument("--clusters", type=int, default=50, help="test clusters in the fleet (default 50)")
    p.add_argument("--objects", type=int, default=200, help="Velero objects per cluster (default 200; >= 20)")
    p.add_argument("--parallelism", type=int, default=8, help="plan --fleet --parallelism (default 8)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of each command (default 3)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "fleet-results.json")
    a = p.parse_args(argv)
    if a.clusters < 2 or a.objects < 20 or a.repeat < 1:
        p.error("--clusters >= 2, --objects >= 20, --repeat >= 1")
    return a


def start_fleet(workdir: Path, clusters: int, sizes: Sizes) -> tuple[list, Path, Path]:
    """(clusters, fleet file, base policy): every cluster grown to `sizes` over its HTTPS API."""
    from tests.cluster.apiserver.cluster import Cluster
    from tests.cluster.apiserver.tls import ca_pem

    applied = workload.write_policy(workdir / "applied", sizes, planned=False)
    planned = workload.write_policy(workdir / "planned", sizes, planned=True)
    objects = workload.applied_objects(applied) + [workload.backup(j, sizes) for j in range(sizes.backups)]
    started, lines = [], ["apiVersion: snapplan/v1", "kind: Fleet", "metadata: {name: bench}",
                          f"policy: {planned}", "clusters:"]
    try:
        for i in range(clusters):
            c = Cluster(with_velero=True).start()
            started.append(c)
            name = f"c{i:03d}"
            kubeconfig = c.write_kubeconfig(workdir / "kube" / name, context=name)
            create_all(HttpClient(c.url, c.token, ca_pem()), objects)
            lines += [f"  {name}:", f"    kubeconfig: {kubeconfig}", f"    context: {name}"]
    except BaseException:
        for c in started:
            c.stop()
        raise
    fleet = workdir / "fleet.yaml"
    fleet.write_text("\n".join(lines) + "\n")
    return started, fleet, planned


def expected(sizes: Sizes) -> str:
    changes = sum(1 for i in range(sizes.schedules) if sizes.retention_changed(i))
    return f"{sizes.new_schedules + sizes.new_restores} to add, {changes} to change, 0 to destroy"


def _runs(runs: list[Run]) -> dict:
    return {"wall_s": median(r.wall for r in runs), "cpu_s": median(r.cpu for r in runs),
            "rss_mb": median(r.rss_kb for r in runs) / 1024, "runs_s": [round(r.wall, 3) for r in runs]}


def measure(a, workdir: Path, log=print) -> dict:
    sizes = Sizes.of(a.objects, workload.scaled(a.objects))
    began = time.perf_counter()
    clusters, fleet, policy = start_fleet(workdir, a.clusters, sizes)
    log(f"  {a.clusters} clusters of {sizes.objects:,} objects each started and populated over HTTPS "
        f"({time.perf_counter() - began:.0f} s)")
    env = child_env()
    one = [*snapplan_cmd(), "plan", "-f", str(policy), "--kubeconfig", str(workdir / "kube" / "c000")]
    many = [*snapplan_cmd(), "plan", "--fleet", str(fleet), "--parallelism", str(a.parallelism), "--json"]
    try:
        warm = run(one, env=env, cwd=workdir)
        if f"Plan: {expected(sizes)}." not in warm.out:
            raise CommandFailed(f"unexpected single plan; wanted {expected(sizes)!r}:\n{warm.out[-1500:]}")
        for c in clusters:
            c.requests.reset()
        first = run(many, env=env, cwd=workdir)
        requests = [sum(c.requests.snapshot().values()) for c in clusters]
        kinds = sorted({f"{v} {r}" for c in clusters for (v, r) in c.requests.snapshot()})
        doc = json.loads(first.out)
        bad = [c["cluster"] for c in doc["clusters"] if c["status"] != "ok" or
               (c["add"], c["change"]) != (sizes.new_schedules + sizes.new_restores,
                                           sum(1 for i in range(sizes.schedules) if sizes.retention_changed(i)))]
        if bad:
            raise CommandFailed(f"plan --fleet: unexpected result for {', '.join(bad[:5])}")
        singles, fleets = [], []
        for _ in range(a.repeat):  # interleaved: both see the same machine
            singles.append(run(one, env=env, cwd=workdir))
            fleets.append(run(many, env=env, cwd=workdir))
    finally:
        for c in clusters:
            c.stop()
    return {"clusters": a.clusters, "objects_per_cluster": sizes.objects, "parallelism": a.parallelism,
            "single": _runs(singles), "fleet": _runs(fleets),
            "requests_per_cluster": {"min": min(requests), "max": max(requests), "kinds_read": len(kinds),
                                     "by_resource": kinds}}


def evaluate(r: dict) -> list[dict]:
    from engine.state.kube import READS

    wall = r["fleet"]["wall_s"] / r["single"]["wall_s"]
    rss = r["fleet"]["rss_mb"] / r["single"]["rss_mb"]
    req = r["requests_per_cluster"]
    return [
        {"name": f"plan --fleet of {r['clusters']} clusters vs one cluster's plan: wall time", "value": round(wall, 2),
         "target": f"<= {WALL_TARGET}x", "ok": wall <= WALL_TARGET},
        {"name": "peak RSS, fleet vs one cluster", "value": round(rss, 2), "target": f"<= {RSS_TARGET}x",
         "ok": rss <= RSS_TARGET},
        {"name": "API requests per cluster", "value": f"{req['min']}-{req['max']}", "target": f"= {len(READS)} kinds read",
         "ok": req["min"] == req["max"] == len(READS)},
    ]


def main(argv=None) -> int:
    a = parse(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"snapplan fleet benchmark: {a.clusters} clusters x {a.objects} objects, --parallelism {a.parallelism}, "
          f"{a.repeat} runs; {os.cpu_count()} CPUs, load average {load:.1f}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="snapplan-fleet-bench-"))
    started = time.perf_counter()
    try:
        result = measure(a, workdir, log=lambda m: print(m, flush=True))
    except CommandFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    targets = evaluate(result)
    out = {"settings": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average_1m": load,
                        "duration_s": round(time.perf_counter() - started, 1)}, **result, "targets": targets}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2) + "\n")
    s, f = result["single"], result["fleet"]
    print(f"\n  one cluster's plan:  {s['wall_s']:.2f} s, {s['rss_mb']:.0f} MB peak RSS, {s['cpu_s']:.2f} s CPU")
    print(f"  plan --fleet ({a.clusters}): {f['wall_s']:.2f} s, {f['rss_mb']:.0f} MB peak RSS, {f['cpu_s']:.2f} s CPU")
    for t in targets:
        print(f"  {'PASS' if t['ok'] else 'FAIL'}  {t['name']}: {t['value']} (target {t['target']})")
    print(f"\nwrote {a.out}")
    return 0 if all(t["ok"] for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
