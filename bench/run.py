"""`python -m bench`: start the test cluster, grow it over HTTP to each size, and measure snapplan against the
floor in the same run. Prints a table of medians, ratios and PASS/FAIL per target; writes bench/results.json.
Exits 1 when a target fails."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import floor, report, workload
from bench.measure import CommandFailed, Run, median, run
from bench.workload import Sizes

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    sizes: tuple[int, ...]
    main: int
    repeat: int  # runs of each timed command at the main size (and of the startup pair, doubled)
    growth_repeat: int  # runs of plan at the other sizes
    apply_creates: int
    apply_repeat: int
    latency: float  # seconds added to every request during the apply measurement
    out: Path


def parse(argv: list[str] | None) -> Settings:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="sizes up to 10,000 and fewer repetitions (about a minute)")
    p.add_argument("--sizes", help="comma-separated object counts for the growth measurement "
                                   "(default 1000,10000,50000; --quick 1000,5000,10000)")
    p.add_argument("--main", type=int, help="the size where plan is compared with the floor, RSS included "
                                            "(default 10000, else the middle size)")
    p.add_argument("--repeat", type=int, help="timed runs per measurement (default 5; --quick 3)")
    p.add_argument("--apply-creates", type=int, help="independent creates to apply (default 200; --quick 100)")
    p.add_argument("--latency", type=float, default=0.02, help="injected latency per request during apply (s)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json", help="where to write the results")
    a = p.parse_args(argv)
    sizes = tuple(int(s) for s in a.sizes.split(",")) if a.sizes else \
        ((1000, 5000, 10000) if a.quick else (1000, 10000, 50000))
    if sorted(set(sizes)) != list(sizes) or len(sizes) < 2 or sizes[0] < 20:
        p.error("--sizes: at least two increasing sizes, each >= 20")
    main = a.main or (10000 if 10000 in sizes else sizes[len(sizes) // 2])
    if main not in sizes:
        p.error("--main must be one of --sizes")
    repeat = a.repeat or (3 if a.quick else 5)
    if repeat < 1:
        p.error("--repeat must be at least 1")
    return Settings(sizes, main, repeat, growth_repeat=repeat,
                    apply_creates=a.apply_creates or (100 if a.quick else 200),
                    apply_repeat=max(1, min(repeat, 3)), latency=a.latency, out=a.out)


def snapplan_cmd() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).parent / "snapplan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine"]


def child_env() -> dict:
    """As on a user's machine: bytecode is cached (an installed snapplan has its .pyc files; a source checkout
    writes them on first run), so start-up is not a compile of every module each time."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "PYTHONDONTWRITEBYTECODE")}
    env.update(NO_COLOR="1", COLUMNS="80")
    return env


class Bench:
    def __init__(self, settings: Settings, workdir: Path, log=print):
        from bench.cluster import BenchCluster

        self.s, self.workdir, self.log = settings, workdir, log
        self.env = child_env()
        self.cluster = BenchCluster(workdir)
        self.kubeconfig = str(self.cluster.kubeconfig)

    # ----- commands
    def plan(self, policy: Path) -> tuple[Run, dict]:
        """One `snapplan plan` against the cluster, and the API requests it made."""
        self.cluster.requests.reset()
        r = run([*snapplan_cmd(), "plan", "-f", str(policy), "--kubeconfig", self.kubeconfig], env=self.env,
                cwd=self.workdir)
        return r, self.cluster.requests.snapshot()

    def floor(self, *, typed: bool = False) -> Run:
        return run([sys.executable, "-m", "bench.floor", *(["--typed"] if typed else []), self.kubeconfig,
                    workload.NAMESPACE], env={**self.env, "PYTHONPATH": str(ROOT)}, cwd=self.workdir)

    def apply(self, policy: Path, parallelism: int) -> Run:
        return run([*snapplan_cmd(), "apply", "--auto-approve", "--no-wait", "-f", str(policy),
                    "--kubeconfig", self.kubeconfig, "--parallelism", str(parallelism)], env=self.env,
                   cwd=self.workdir)

    # ----- measurements
    def growth_and_floor(self) -> dict:
        """Plan and floor, interleaved, at every size (requests counted at each); RSS at the main size."""
        points, requests, main = [], [], {}
        for n in self.s.sizes:
            sizes = Sizes.of(n)
            started = time.perf_counter()
            policy = self.cluster.grow(sizes)
            self.log(f"  N={n:,}: cluster holds {sizes.objects:,} objects ({time.perf_counter() - started:.1f} s to "
                     f"populate over HTTP); planning ...")
            warm, snap = self.plan(policy)  # untimed: warms caches and checks the plan
            _check_plan(warm, sizes)
            requests.append({"n": n, **_requests(snap)})
            got = int(self.floor().out.strip() or 0)
            if got < sizes.objects:
                raise CommandFailed(f"the floor read {got} objects, expected at least {sizes.objects}")
            plans, floors = [], []
            for _ in range(self.s.repeat if n == self.s.main else self.s.growth_repeat):
                floors.append(self.floor())  # interleaved, so both see the same machine
                plans.append(self.plan(policy)[0])
            point = {"n": n, "objects": sizes.objects, "plan": _runs(plans), "floor": _runs(floors)}
            points.append(point)
            if n == self.s.main:
                typed = [self.floor(typed=True) for _ in range(min(2, self.s.repeat))]  # for information
                main = {**point, "floor_typed_api": _runs(typed)}
        return {"growth": points, "requests": requests, "main": main}

    def parallel_apply(self) -> dict:
        """`apply --parallelism 8` vs `--parallelism 1` of independent creates, every request slowed down.
        The apply with nothing left to do (same latency) is the fixed cost: start-up, lock, plan."""
        base, creates = workload.write_apply_policies(self.workdir / "apply", self.s.apply_creates)
        ns = workload.APPLY_NAMESPACE
        self.cluster.create_namespace(ns)
        self.cluster.create(workload.applied_objects(base))
        rule = self.cluster.faults.add(latency=self.s.latency)
        runs: dict[str, list[Run]] = {"p8": [], "p1": [], "nothing": []}
        try:
            for _ in range(self.s.apply_repeat):
                for parallelism in (8, 1):
                    self.cluster.delete_all("Schedule", ns)
                    r = self.apply(creates, parallelism)
                    if f"Apply complete! {self.s.apply_creates} added" not in r.out or \
                            self.cluster.count("Schedule", ns) != self.s.apply_creates:
                        raise CommandFailed(f"apply --parallelism {parallelism} did not create every schedule:\n"
                                            f"{r.out[-1000:]}")
                    runs[f"p{parallelism}"].append(r)
                r = self.apply(creates, 8)
                if "No changes." not in r.out:
                    raise CommandFailed(f"a second apply was not a no-op:\n{r.out[-1000:]}")
                runs["nothing"].append(r)
        finally:
            self.cluster.faults.remove(rule)
        return {"creates": self.s.apply_creates, "latency_ms": self.s.latency * 1000,
                **{k: _runs(v) for k, v in runs.items()}}

    def startup(self) -> dict:
        help_runs, python_runs = [], []
        for _ in range(2 * self.s.repeat):
            python_runs.append(run([sys.executable, "-c", "pass"], env=self.env, cwd=self.workdir))
            help_runs.append(run([*snapplan_cmd(), "--help"], env=self.env, cwd=self.workdir))
        return {"help": _runs(help_runs), "python": _runs(python_runs)}


def _check_plan(r: Run, sizes: Sizes) -> None:
    """The plan must show exactly what the workload changed: it read the whole cluster and diffed it."""
    changes = sum(1 for i in range(sizes.schedules) if sizes.retention_changed(i))
    want = f"Plan: {sizes.new_schedules + sizes.new_restores} to add, {changes} to change, 0 to destroy."
    if want not in r.out:
        raise CommandFailed(f"unexpected plan at N={sizes.n}: wanted {want!r}; got:\n{r.out[-1500:]}")


def _requests(snapshot: dict) -> dict:
    return {"total": sum(snapshot.values()),
            "by_resource": {f"{verb} {resource}": n for (verb, resource), n in sorted(snapshot.items())}}


def _runs(runs: list[Run]) -> dict:
    return {"wall_s": median(r.wall for r in runs), "cpu_s": median(r.cpu for r in runs),
            "rss_mb": median(r.rss_kb for r in runs) / 1024, "runs_s": [round(r.wall, 4) for r in runs],
            "cpu_runs_s": [round(r.cpu, 4) for r in runs]}


def check_floor_matches_snapplan() -> None:
    from engine.state.kube import READS

    if tuple(kind for _, kind, _ in READS) != floor.KINDS:
        raise SystemExit("bench/floor.py lists other kinds than engine.state.kube.READS: update bench.floor.KINDS")


def main(argv: list[str] | None = None) -> int:
    settings = parse(argv)
    check_floor_matches_snapplan()
    started = time.perf_counter()
    print(f"snapplan benchmark: sizes {', '.join(f'{n:,}' for n in settings.sizes)}; main N={settings.main:,}; "
          f"{settings.repeat} repetitions; {os.cpu_count()} CPUs", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="snapplan-bench-"))
    try:
        bench = Bench(settings, workdir, log=lambda m: print(m, flush=True))
        try:
            print("startup: snapplan --help vs python -c pass ...", flush=True)
            startup = bench.startup()
            print(f"apply: {settings.apply_creates} creates, {settings.latency * 1000:.0f} ms per request ...",
                  flush=True)
            apply = bench.parallel_apply()
            print("plan: growing the cluster ...", flush=True)
            plans = bench.growth_and_floor()
        finally:
            bench.cluster.stop()
    except CommandFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = {"settings": {"sizes": list(settings.sizes), "main": settings.main, "repeat": settings.repeat,
                            "apply_creates": settings.apply_creates, "latency_s": settings.latency,
                            "populate": "HTTP (one POST per object)", "cpus": os.cpu_count(),
                            "python": platform.python_version(), "duration_s": round(time.perf_counter() - started, 1)},
               "startup": startup, "apply": apply, **plans}
    targets = report.evaluate(results)
    results["targets"] = [t.as_dict() for t in targets]
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report.table(results, targets))
    print(f"\nwrote {settings.out} ({results['settings']['duration_s']:.0f} s)")
    return 0 if all(t.ok for t in targets) else 1
