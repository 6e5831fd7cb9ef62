"""Run one pipeline per cluster of a fleet in a bounded thread pool: plan, apply or audit, each cluster through
the same code as a single-cluster run, with its own connection, lock and exit code. A cluster that fails
(unreachable, a bad effective policy, a plan that cannot be made) is reported; the others go on."""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from engine.errors import ClusterUnreachable, PlanError, PolicyError, SnapplanError
from engine.fleet.effective import prepare_cluster
from engine.fleet.spec import ClusterSpec, Fleet


class Status(str, Enum):
    OK = "ok"  # the run succeeded (a plan with or without changes, a complete apply, an audit that passed)
    FAILED = "failed"  # it ran and found what makes its exit code non-zero (a failed action; a --fail-on)
    ERROR = "error"  # it could not run: a bad effective policy, a plan that cannot be made, an internal error
    UNREACHABLE = "unreachable"  # the cluster's API server could not be reached or refused us


@dataclass(frozen=True)
class ClusterOutcome:
    cluster: str
    status: Status
    exit_code: int  # what the single-cluster command would have exited with
    add: int = 0
    change: int = 0
    destroy: int = 0
    errors: int = 0  # failed apply actions; 1 when the cluster could not run
    unhealthy: int = 0  # Velero preflight problems (plan, apply); failing schedules and locations (audit)
    message: str = ""  # why it could not run, or what failed
    warnings: tuple[str, ...] = ()
    plan: dict | None = None  # plan.schema.json
    audit: dict | None = None  # audit.schema.json
    saved_plan: str | None = None
    failed_on: tuple[str, ...] = ()
    crash: str | None = None  # traceback of an internal error, for the crash log
    details: tuple[str, ...] = ()  # per action: "failed: ADDRESS: why" (apply)


@dataclass(frozen=True)
class FleetOptions:
    kubeconfig: str | None = None  # for clusters that name none (--kubeconfig / KUBECONFIG)
    parallelism: int = 8
    prune: bool = False
    targets: tuple[str, ...] = ()
    now: str | None = None
    out: str | None = None  # plan: save each cluster's plan as <dir>/<cluster>/<name>.plan
    env: Mapping[str, str] | None = None
    fail_on: tuple[str, ...] = ()  # audit
    events: bool = False  # audit: record the result as Events on each cluster's Schedules


def kube_target(cluster: ClusterSpec, options: FleetOptions):
    from engine.state.kube import KubeTarget

    return KubeTarget(cluster.kubeconfig or options.kubeconfig, cluster.context)


def run_fleet(clusters: list[ClusterSpec], job: Callable[[ClusterSpec], ClusterOutcome],
              parallelism: int, stop: threading.Event | None = None) -> list[ClusterOutcome]:
    """`job` on every cluster, at most `parallelism` at once; outcomes in the clusters' order.
    Ctrl-C starts no new cluster and sets `stop` (jobs that watch it stop as a single run would on Ctrl-C: an
    apply starts no new action, stops waiting and releases its lock); clusters not started are reported so.
    Without `stop`, Ctrl-C is raised once the running jobs end."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(clusters))), thread_name_prefix="fleet")
    gate = threading.Event()
    stopped = stop or threading.Event()

    def gated(cluster):  # nothing starts before every cluster is submitted: a Ctrl-C then loses no future
        gate.wait()
        if stopped.is_set():
            return ClusterOutcome(cluster.name, Status.FAILED, 130, message="not started: interrupted")
        return _guarded(job, cluster)

    futures = []
    try:
        for c in clusters:
            futures.append(pool.submit(gated, c))
        gate.set()
        while wait(futures, timeout=0.5).not_done:  # a timeout, so Ctrl-C is seen while waiting
            pass
    except KeyboardInterrupt:
        stopped.set()  # the queued clusters return at once, unstarted (no cancel(): wait() hangs on those)
        gate.set()
        wait(futures)
        if stop is None:
            raise
    finally:
        gate.set()
        pool.shutdown(wait=True)
    futures += [None] * (len(clusters) - len(futures))  # Ctrl-C came before every cluster was submitted
    return [ClusterOutcome(c.name, Status.FAILED, 130, message="not started: interrupted") if f is None
            else f.result() for c, f in zip(clusters, futures)]


def _guarded(job, cluster: ClusterSpec) -> ClusterOutcome:
    try:
        return job(cluster)
    except ClusterUnreachable as exc:
        return ClusterOutcome(cluster.name, Status.UNREACHABLE, 1, errors=1, message=str(exc))
    except PlanError as exc:
        return ClusterOutcome(cluster.name, Status.ERROR, 1, errors=1,
                              message="the plan cannot be made:\n" + "\n".join(f"  - {p}" for p in exc.problems))
    except PolicyError as exc:
        return ClusterOutcome(cluster.name, Status.ERROR, 1, errors=1,
                              message=f"{len([d for d in exc.diagnostics if d.severity == 'error'])} error(s) in "
                                      f"the effective policy:\n" + "\n".join(f"  {d}" for d in exc.diagnostics))
    except SnapplanError as exc:
        return ClusterOutcome(cluster.name, Status.ERROR, exc.exit_code or 1, errors=1, message=str(exc))
    except Exception as exc:  # a bug: this cluster reports it, the others go on
        return ClusterOutcome(cluster.name, Status.ERROR, 1, errors=1,
                              message=f"internal error: {type(exc).__name__}: {exc}",
                              crash="".join(traceback.format_exception(exc)))


def _unhealthy(plan_json: dict) -> int:
    return sum(1 for c in (plan_json.get("velero") or {}).get("checks", ()) if not c.get("ok"))


def saved_plan_path(out: str, cluster: str) -> Path:
    """`--out NAME` -> plans/<cluster>/NAME.plan; `--out DIR/NAME` -> DIR/<cluster>/NAME.plan."""
    from engine.plan.saved import output_path

    path = output_path(out)
    return path.parent / cluster / path.name


def plan_cluster(fleet: Fleet, cluster: ClusterSpec, options: FleetOptions) -> ClusterOutcome:
    from engine.apply.targets import ClusterTarget, LockOptions
    from engine.plan.jsonform import plan_to_json
    from engine.planner import plan_against

    prepared = prepare_cluster(fleet, cluster, options.env)
    where = ClusterTarget(kube_target(cluster, options), LockOptions(enabled=False))
    with where.read_only(prepared.policy.velero_namespace) as (live, described):
        result = plan_against(prepared, live, prune=options.prune, targets=options.targets, now=options.now)
    doc = plan_to_json(result.plan)
    saved_at = None
    if options.out:
        from engine.plan import saved as saved_plans

        saved = saved_plans.build(policy_arg=str(fleet.path), policy=result.policy, desired=result.desired,
                                  live=result.live, plan_json=doc, target=described,
                                  options={"prune": options.prune, "targets": list(options.targets)})
        extra = {"fleet": {"file": str(Path(fleet.path).resolve()), "cluster": cluster.name}}
        kubeconfig = kube_target(cluster, options).kubeconfig
        if kubeconfig:
            extra["kubeconfig"] = ":".join(str(Path(p).resolve()) for p in kubeconfig.split(":") if p)
        saved = saved_plans.sign({**saved, **extra})  # the additions are signed with the rest
        saved_at = str(saved_plans.write(saved_plan_path(options.out, cluster.name), saved))
    s = result.plan.summary
    return ClusterOutcome(cluster.name, Status.OK, 0, s["add"], s["change"], s["destroy"], 0, _unhealthy(doc),
                          warnings=tuple(str(w) for w in result.policy_warnings), plan=doc, saved_plan=saved_at)


def audit_cluster(fleet: Fleet, cluster: ClusterSpec, options: FleetOptions) -> ClusterOutcome:
    from engine.audit import audit_to_json, build_audit
    from engine.planner import parse_now, read_live

    prepared = prepare_cluster(fleet, cluster, options.env)
    live = read_live(None, kube_target(cluster, options), prepared.policy.velero_namespace)
    result = build_audit(prepared, live, parse_now(options.now), options.fail_on)
    doc = audit_to_json(result)
    s = doc["drift"]["summary"]
    unhealthy = sum(1 for x in result.schedules if x.failing) + sum(1 for x in result.storage if x.unavailable)
    failed = tuple(result.failed)
    warnings = tuple(str(w) for w in prepared.warnings)
    if options.events:
        from engine.audit.events import record_events

        warnings += tuple(record_events(kube_target(cluster, options), doc, live, parse_now(options.now)))
    return ClusterOutcome(cluster.name, Status.FAILED if failed else Status.OK, 3 if failed else 0,
                          s["create"] + s["replace"], s["update"], s["delete"] + s["replace"], 0, unhealthy,
                          message=f"--fail-on: {', '.join(failed)}" if failed else "",
                          warnings=warnings, audit=doc, failed_on=failed)


def apply_cluster(fleet: Fleet, cluster: ClusterSpec, options: FleetOptions, apply_options, lock, ui,
                  check_storage: bool = True, saved_plan: Path | None = None,
                  stop: threading.Event | None = None) -> ClusterOutcome:
    """`ui` is this cluster's engine.apply.run.UI; it must not ask (a fleet apply is approved up front).
    `saved_plan`: apply exactly that plan (plan_cluster with `out`), refused if it no longer holds."""
    from engine.apply.run import ApplyRequest, run_apply
    from engine.apply.targets import ClusterTarget
    from engine.apply.walk import Status as Step
    from engine.plan.jsonform import plan_to_json
    from engine.plan.model import Action

    shown = {}

    class Recording:
        """Keeps the plan the apply made under its lock, for the summary."""

        def __getattr__(self, name):
            return getattr(ui, name)

        def show_plan(self, result):
            shown["plan"], shown["warnings"] = plan_to_json(result.plan), result.policy_warnings
            ui.show_plan(result)

    request = ApplyRequest(ClusterTarget(kube_target(cluster, options), lock), None, saved_plan, options.prune,
                           options.targets, apply_options, env=options.env, check_storage=check_storage,
                           prepare=lambda: prepare_cluster(fleet, cluster, options.env), stop=stop)
    outcome = run_apply(request, Recording())
    plan = shown.get("plan")
    warnings = tuple(str(w) for w in shown.get("warnings", ()))
    if outcome is None:
        return ClusterOutcome(cluster.name, Status.OK, 0, unhealthy=_unhealthy(plan) if plan else 0,
                              warnings=warnings, plan=plan)
    added = outcome.count(Step.DONE, (Action.CREATE, Action.REPLACE))
    changed = outcome.count(Step.DONE, (Action.UPDATE,))
    destroyed = outcome.count(Step.DONE, (Action.DELETE, Action.REPLACE))
    failed = [(a, o) for a, o in outcome.outcomes.items() if o.status is Step.FAILED]
    skipped = [(a, o) for a, o in outcome.outcomes.items() if o.status in (Step.SKIPPED, Step.NOT_STARTED)]
    details = tuple(f"failed: {a}: {o.message}" for a, o in failed) + \
        tuple(f"skipped: {a}: {o.message}" for a, o in skipped)
    if outcome.ok:
        return ClusterOutcome(cluster.name, Status.OK, 0, added, changed, destroyed, 0, _unhealthy(plan),
                              warnings=warnings, plan=plan)
    why = (f"stopped: {outcome.lock_lost}" if outcome.lock_lost else "interrupted" if outcome.interrupted
           else f"{len(failed)} action(s) failed, {len(skipped)} not done")
    return ClusterOutcome(cluster.name, Status.FAILED, 130 if outcome.interrupted else 1, added, changed, destroyed,
                          len(failed), _unhealthy(plan), message=why, warnings=warnings, plan=plan, details=details)


def overall_exit(command: str, outcomes: list[ClusterOutcome], detailed: bool = False) -> int:
    """Terraform's rules across clusters: an error anywhere wins (1; 130 when an apply was interrupted); then,
    for audit, a --fail-on condition anywhere (3); then, with --detailed-exitcode, changes anywhere (2); else 0."""
    codes = {o.exit_code for o in outcomes}
    if 130 in codes:
        return 130
    if any(o.status in (Status.ERROR, Status.UNREACHABLE) for o in outcomes) or 1 in codes:
        return 1
    if command == "audit" and 3 in codes:
        return 3
    if detailed and any(o.add or o.change or o.destroy for o in outcomes):
        return 2
    return 0
