"""The targets issue 8 sets, judged on a run's results, and the table the benchmark prints."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from bench.floor import KINDS

PLAN_VS_FLOOR = 1.5
APPLY_PARALLEL_VS_SERIAL = 0.2
RSS_VS_FLOOR = 2.0
HELP_VS_PYTHON = 12.0
GROWTH_SLACK = 1.5  # the last interval's cost per object may exceed the first's by this much (noise)


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
    main, apply, start = r["main"], r["apply"], r["startup"]
    plan_s, floor_s = main["plan"]["wall_s"], main["floor"]["wall_s"]
    out = [Target(f"plan vs floor (N={main['n']:,})", f"{plan_s:.2f} s vs {floor_s:.2f} s",
                  f"<= {PLAN_VS_FLOOR}x", plan_s / floor_s, plan_s / floor_s <= PLAN_VS_FLOOR)]
    totals = [p["total"] for p in r["requests"]]
    out.append(Target("API requests per plan",
                      " / ".join(f"{p['total']} (N={p['n']:,})" for p in r["requests"]),
                      f"== {len(KINDS)} (kinds read)", max(totals), all(t == len(KINDS) for t in totals)))
    fixed = apply["nothing"]["wall_s"]
    p8, p1 = apply["p8"]["wall_s"], apply["p1"]["wall_s"]
    net = max(p8 - fixed, 0.0) / max(p1 - fixed, 1e-9)
    out.append(Target(f"apply {apply['creates']} creates, {apply['latency_ms']:.0f} ms/request: "
                      "--parallelism 8 vs 1",
                      f"{p8:.2f} s vs {p1:.2f} s (fixed {fixed:.2f} s); net {net:.2f}x, whole {p8 / p1:.2f}x",
                      f"<= {APPLY_PARALLEL_VS_SERIAL}x (net)", net, net <= APPLY_PARALLEL_VS_SERIAL))
    rss_plan, rss_floor = main["plan"]["rss_mb"], main["floor"]["rss_mb"]
    out.append(Target(f"peak RSS plan vs floor (N={main['n']:,})", f"{rss_plan:.0f} MB vs {rss_floor:.0f} MB",
                      f"<= {RSS_VS_FLOOR}x", rss_plan / rss_floor, rss_plan / rss_floor <= RSS_VS_FLOOR))
    h, py = start["help"]["wall_s"], start["python"]["wall_s"]
    out.append(Target("snapplan --help vs python -c pass", f"{h * 1000:.0f} ms vs {py * 1000:.0f} ms",
                      f"<= {HELP_VS_PYTHON:.0f}x", h / py, h / py <= HELP_VS_PYTHON))
    out.append(_growth(r["growth"]))
    return out


def cpu(point: dict) -> float:
    """The lowest CPU time of plan's runs at a size: a busy machine only ever adds to it."""
    return min(point["plan"]["cpu_runs_s"])


def marginal_ms_per_1000(points: list[dict]) -> list[float]:
    """Plan CPU time added per 1,000 more objects, between consecutive sizes (start-up cost cancels out)."""
    return [1e6 * (cpu(b) - cpu(a)) / (b["objects"] - a["objects"]) for a, b in zip(points, points[1:])]


def _growth(points: list[dict]) -> Target:
    """Judged on CPU time: the sizes are measured minutes apart, and wall time then holds whatever else the
    machine ran. Marginal costs, so a quadratic part cannot hide behind start-up time."""
    times = " / ".join(f"{p['plan']['wall_s']:.2f} s (N={p['n']:,})" for p in points)
    slopes = marginal_ms_per_1000(points)
    if len(slopes) == 1:  # two sizes: CPU time may grow at most as fast as the objects
        a, b = points
        value = (cpu(b) / cpu(a)) / (b["objects"] / a["objects"])
        return Target("plan growth", times, "CPU time ratio <= object ratio", value, value <= 1.0)
    value = slopes[-1] / max(slopes[0], 1e-9)
    measured = f"{times}; CPU {' -> '.join(f'{s:.0f}' for s in slopes)} ms per 1,000 more objects"
    return Target("plan growth", measured, f"linear or better (CPU per object, last/first interval <= {GROWTH_SLACK})",
                  value, value <= GROWTH_SLACK)


def table(r: dict, targets: list[Target]) -> str:
    width = max(len(t.name) for t in targets)
    lines = [f"{'measure'.ljust(width)}  {'ratio':>6}  result  target / medians"]
    for t in targets:
        lines.append(f"{t.name.ljust(width)}  {t.value:6.2f}  {'PASS' if t.ok else 'FAIL':6}  {t.target}")
        lines.append(f"{''.ljust(width)}                  {t.measured}")
    lines += ["", "        N   plan wall   plan CPU   floor wall   floor CPU   plan RSS   floor RSS"]
    for p in r["growth"]:
        lines.append(f"{p['n']:>9,}   {p['plan']['wall_s']:7.2f} s  {p['plan']['cpu_s']:7.2f} s  "
                     f"{p['floor']['wall_s']:9.2f} s  {p['floor']['cpu_s']:8.2f} s  {p['plan']['rss_mb']:6.0f} MB  "
                     f"{p['floor']['rss_mb']:7.0f} MB")
    typed = r["main"].get("floor_typed_api")
    if typed:
        lines.append(f"(the same reads through the client's typed API classes: {typed['wall_s']:.2f} s, "
                     f"{typed['rss_mb']:.0f} MB at N={r['main']['n']:,}; not the floor: importing them costs ~1 s)")
    s = r["settings"]
    lines.append(f"medians of {s['repeat']} runs (apply: {min(s['repeat'], 3)}); growth judged on the lowest CPU time; "
                 f"every object created over {s['populate']}; {s['cpus']} CPUs, Python {s['python']}")
    return "\n".join(lines)
