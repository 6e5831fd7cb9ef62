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
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import floor, report, workload
from bench.measure import CommandFailed, Run, median, run
from bench.workload import Shape, Sizes

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    a_sizes: tuple[int, ...]  # workload A's object counts (growth is judged between them; RSS at the largest)
    a: Shape
    b_size: int
    b: Shape
    repeat: int  # paired runs (plan, floor) at every size, and of each start-up command
    apply_creates: int
    apply_repeat: int
    latency: float  # seconds added to every request during the apply measurement
    out: Path


def parse(argv: list[str] | None) -> Settings:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repetitions (A: 2,000 and 10,000; B: 200 schedules, 40 "
                        "locations over 10,000 objects)")
    p.add_argument("--sizes", help="workload A's comma-separated object counts (default 10000,100000)")
    p.add_argument("--b-size", type=int, help="workload B's object count (default 50000)")
    p.add_argument("--a-schedules", type=int, help="workload A's schedules (default 50)")
    p.add_argument("--b-schedules", type=int, help="workload B's schedules (default 1000)")
    p.add_argument("--b-storage", type=int, help="workload B's locations (default 200)")
    p.add_argument("--restores", type=int, help="restores from {schedule} in each workload (default 50)")
    p.add_argument("--repeat", type=int, help="paired runs per measurement (default 5; --quick 3)")
    p.add_argument("--apply-creates", type=int, help="independent creates to apply (default 200; --quick 100)")
    p.add_argument("--latency", type=float, default=0.02, help="injected latency per request during apply (s)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json", help="where to write the results")
    a = p.parse_args(argv)
    sizes = tuple(int(s) for s in a.sizes.split(",")) if a.sizes else ((2000, 10000) if a.quick else (10000, 100000))
    if sorted(set(sizes)) != list(sizes) or len(sizes) < 2:
        p.error("--sizes: at least two increasing sizes")
    restores = a.restores if a.restores is not None else workload.WORKLOAD_A.restores
    shape_a = replace(workload.WORKLOAD_A, schedules=a.a_schedules or workload.WORKLOAD_A.schedules,
                      restores=restores)
    shape_a = replace(shape_a, storage=max(1, shape_a.schedules // 10))
    shape_b = replace(workload.WORKLOAD_B, schedules=a.b_schedules or (200 if a.quick else 1000),
                      storage=a.b_storage or (40 if a.quick else 200), restores=restores)
    b_size = a.b_size or (10000 if a.quick else 50000)
    for shape, n in ((shape_a, sizes[0]), (shape_b, b_size)):
        if n <= shape.config_objects:
            p.error(f"workload {shape.name} holds {shape.config_objects} objects besides Backups: size {n} is too small")
    repeat = a.repeat or (3 if a.quick else 5)
    if repeat < 1:
        p.error("--repeat must be at least 1")
    return Settings(sizes, shape_a, b_size, shape_b, repeat, apply_creates=a.apply_creates or (100 if a.quick else 200),
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
        workdir.mkdir(parents=True, exist_ok=True)
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
    def workload(self, shape: Shape, sizes: tuple[int, ...]) -> list[dict]:
        """Plan and floor as pairs (one right after the other, so both see the same machine) at every size of
        one workload; API requests counted at each."""
        points = []
        for n in sizes:
            s = Sizes.of(n, shape)
            started = time.perf_counter()
            policy = self.cluster.grow(s)
            self.log(f"  {shape.name} N={n:,}: {shape.schedules:,} schedules, {shape.storage:,} locations, "
                     f"{s.backups:,} Backups ({time.perf_counter() - started:.1f} s to populate over HTTP); "
                     f"planning ...")
            warm, snap = self.plan(policy)  # untimed: warms caches and checks the plan
            _check_plan(warm, s)
            got = int(self.floor().out.strip() or 0)
            if got < s.objects:
                raise CommandFailed(f"the floor read {got} objects, expected at least {s.objects}")
            plans, floors = [], []
            for _ in range(self.s.repeat):
                floors.append(self.floor())
                plans.append(self.plan(policy)[0])
            points.append({"workload": shape.name, "n": n, "objects": s.objects, "schedules": shape.schedules,
                           "storage": shape.storage, "restores": shape.restores, "requests": _requests(snap),
                           "plan": _runs(plans), "floor": _runs(floors), "paired_ratio": _paired(plans, floors)})
        return points

    def parallel_apply(self) -> dict:
        """`apply --parallelism 8` vs `--parallelism 1` of independent creates, every request slowed down, timed
        as whole runs. The apply with nothing left to do (same latency) is shown as the fixed cost."""
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
                **{k: _runs(v) for k, v in runs.items()}, "paired_ratio": _paired(runs["p8"], runs["p1"])}

    def startup(self) -> dict:
        """`python3 -c pass`, `snapplan --help` and `snapplan plan --help`, round-robin."""
        runs: dict[str, list[Run]] = {"python": [], "help": [], "plan_help": []}
        for _ in range(2 * self.s.repeat):
            runs["python"].append(run([sys.executable, "-c", "pass"], env=self.env, cwd=self.workdir))
            runs["help"].append(run([*snapplan_cmd(), "--help"], env=self.env, cwd=self.workdir))
            runs["plan_help"].append(run([*snapplan_cmd(), "plan", "--help"], env=self.env, cwd=self.workdir))
        return {k: _runs(v) for k, v in runs.items()}


def _check_plan(r: Run, sizes: Sizes) -> None:
    """The plan must show exactly what the workload changed: it read the whole cluster and diffed it."""
    changes = sum(1 for i in range(sizes.schedules) if sizes.retention_changed(i))
    want = f"Plan: {sizes.new_schedules + sizes.new_restores} to add, {changes} to change, 0 to destroy."
    if want not in r.out:
        raise CommandFailed(f"unexpected plan at N={sizes.n}: wanted {want!r}; got:\n{r.out[-1500:]}")


def _paired(runs: list[Run], against: list[Run]) -> float:
    """The median of per-pair wall-time ratios: each pair ran back to back, so a busy moment hits both."""
    return median(a.wall / b.wall for a, b in zip(runs, against))


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
    print(f"snapplan benchmark: workload A ({settings.a.schedules} schedules) at "
          f"{', '.join(f'{n:,}' for n in settings.a_sizes)} objects; workload B ({settings.b.schedules:,} schedules, "
          f"{settings.b.storage} locations) at {settings.b_size:,}; {settings.repeat} paired runs; "
          f"{os.cpu_count()} CPUs", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="snapplan-bench-"))
    try:
        bench = Bench(settings, workdir, log=lambda m: print(m, flush=True))
        try:
            print("startup: python -c pass, snapplan --help, snapplan plan --help ...", flush=True)
            startup = bench.startup()
            print(f"apply: {settings.apply_creates} creates, {settings.latency * 1000:.0f} ms per request ...",
                  flush=True)
            apply = bench.parallel_apply()
            print("plan: workload A ...", flush=True)
            a_points = bench.workload(settings.a, settings.a_sizes)
        finally:
            bench.cluster.stop()
        bench = Bench(settings, workdir / "b", log=lambda m: print(m, flush=True))  # B has its own cluster
        try:
            print("plan: workload B ...", flush=True)
            b_points = bench.workload(settings.b, (settings.b_size,))
        finally:
            bench.cluster.stop()
    except CommandFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = {"settings": {"a_sizes": list(settings.a_sizes), "b_size": settings.b_size,
                            "a": asdict(settings.a), "b": asdict(settings.b), "repeat": settings.repeat,
                            "apply_creates": settings.apply_creates, "latency_s": settings.latency,
                            "populate": "HTTP (one POST per object)", "cpus": os.cpu_count(),
                            "load_before": os.getloadavg()[0],
                            "python": platform.python_version(), "duration_s": round(time.perf_counter() - started, 1)},
               "startup": startup, "apply": apply, "a": a_points, "b": b_points}
    targets = report.evaluate(results)
    results["targets"] = [t.as_dict() for t in targets]
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report.table(results, targets))
    print(f"\nwrote {settings.out} ({results['settings']['duration_s']:.0f} s)")
    return 0 if all(t.ok for t in targets) else 1
