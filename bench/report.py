"""The targets issue 22 sets, judged on one run's results, and the table the benchmark prints.

Every figure is a ratio of whole runs measured side by side in the same run: plan against the honest floor
(raw LIST per kind, GC paused; bench/floor.py), apply --parallelism 8 against 1, start-up against
`python3 -c pass`. Ratios are medians of per-pair ratios (bench/run.py `_paired`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from bench.floor import KINDS

PLAN_A_VS_FLOOR = 1.3
PLAN_B_VS_FLOOR = 1.5
APPLY_PARALLEL_VS_SERIAL = 0.2
RSS_VS_FLOOR = 1.2
PLAN_HELP_VS_PYTHON = 4.0
GROWTH_VS_FLOOR = 1.2  # plan's time per 1,000 more objects may exceed the floor's by 20 %


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    target: str
    value: float
    ok: bool

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(r: dict) -> list[Target]:
    a, b, apply, start = r["a"], r["b"], r["apply"], r["startup"]
    top = a[-1]
    out = [_vs_floor(f"plan / floor, workload A (N={top['n']:,})", top, PLAN_A_VS_FLOOR),
           _vs_floor(f"plan / floor, workload B (N={b[0]['n']:,}, {b[0]['schedules']:,} schedules, "
                     f"{b[0]['storage']} locations)", b[0], PLAN_B_VS_FLOOR)]
    totals = [(p["workload"], p["n"], p["requests"]["total"]) for p in a + b]
    out.append(Target("API requests per plan", " / ".join(f"{t} ({w} N={n:,})" for w, n, t in totals),
                      f"== {len(KINDS)} (kinds read)", max(t for _, _, t in totals),
                      all(t == len(KINDS) for _, _, t in totals)))
    p8, p1, fixed = apply["p8"]["wall_s"], apply["p1"]["wall_s"], apply["nothing"]["wall_s"]
    ratio = apply["paired_ratio"]
    out.append(Target(f"apply {apply['creates']} creates, {apply['latency_ms']:.0f} ms/request: "
                      "--parallelism 8 / 1, whole run",
                      f"{p8:.2f} s vs {p1:.2f} s (an apply with nothing to do: {fixed:.2f} s)",
                      f"<= {APPLY_PARALLEL_VS_SERIAL}x", ratio, ratio <= APPLY_PARALLEL_VS_SERIAL))
    h, ph, py = start["help"]["wall_s"], start["plan_help"]["wall_s"], start["python"]["wall_s"]
    out.append(Target("snapplan plan --help / python3 -c pass",
                      f"{ph * 1000:.0f} ms vs {py * 1000:.0f} ms (snapplan --help: {h * 1000:.0f} ms, "
                      f"{h / py:.1f}x)", f"<= {PLAN_HELP_VS_PYTHON:.0f}x", ph / py, ph / py <= PLAN_HELP_VS_PYTHON))
    rss_plan, rss_floor = top["plan"]["rss_mb"], top["floor"]["rss_mb"]
    out.append(Target(f"peak RSS plan / floor, workload A (N={top['n']:,})",
                      f"{rss_plan:.0f} MB vs {rss_floor:.0f} MB", f"<= {RSS_VS_FLOOR}x", rss_plan / rss_floor,
                      rss_plan / rss_floor <= RSS_VS_FLOOR))
    out.append(_growth(a))
    return out


def _vs_floor(name: str, point: dict, limit: float) -> Target:
    plan_s, floor_s = point["plan"]["wall_s"], point["floor"]["wall_s"]
    value = point["paired_ratio"]
    return Target(name, f"{plan_s:.2f} s vs {floor_s:.2f} s", f"<= {limit}x", value, value <= limit)


def slope_ms_per_1000(points: list[dict], who: str) -> float:
    """Wall time added per 1,000 more objects from the smallest to the largest size (start-up cancels out)."""
    first, last = points[0], points[-1]
    return 1e6 * (last[who]["wall_s"] - first[who]["wall_s"]) / (last["objects"] - first["objects"])


def _growth(points: list[dict]) -> Target:
    plan, floor = slope_ms_per_1000(points, "plan"), slope_ms_per_1000(points, "floor")
    value = max(plan, 1e-3) / max(floor, 1e-3)  # (at toy sizes either slope may come out <= 0: noise)
    times = " / ".join(f"{p['plan']['wall_s']:.2f} s vs {p['floor']['wall_s']:.2f} s (N={p['n']:,})" for p in points)
    return Target("plan time per 1,000 more objects / floor's, workload A",
                  f"{plan:.1f} ms vs {floor:.1f} ms; {times}", f"<= {GROWTH_VS_FLOOR}x", value,
                  value <= GROWTH_VS_FLOOR)


def table(r: dict, targets: list[Target]) -> str:
    width = max(len(t.name) for t in targets)
    lines = [f"{'measure'.ljust(width)}  {'ratio':>6}  result  target / medians"]
    for t in targets:
        lines.append(f"{t.name.ljust(width)}  {t.value:6.2f}  {'PASS' if t.ok else 'FAIL':6}  {t.target}")
        lines.append(f"{''.ljust(width)}                  {t.measured}")
    lines += ["", "workload         N   plan wall   plan CPU   floor wall   floor CPU   plan RSS   floor RSS"]
    for p in r["a"] + r["b"]:
        lines.append(f"{p['workload']:>8} {p['n']:>9,}   {p['plan']['wall_s']:7.2f} s  {p['plan']['cpu_s']:7.2f} s  "
                     f"{p['floor']['wall_s']:9.2f} s  {p['floor']['cpu_s']:8.2f} s  {p['plan']['rss_mb']:6.0f} MB  "
                     f"{p['floor']['rss_mb']:7.0f} MB")
    s = r["settings"]
    lines.append(f"medians of {s['repeat']} paired runs (apply: {min(s['repeat'], 3)}); every object created over "
                 f"{s['populate']}; {s['cpus']} CPUs (load average {s['load_before']:.1f} at the end), "
                 f"Python {s['python']}")
    return "\n".join(lines)
