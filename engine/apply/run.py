"""One apply, start to end: load the policy, lock the target, read it, plan (or prove a saved plan still
holds), ask, execute. The CLI supplies a UI for the parts that talk to a person."""
from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from engine.apply.executor import ApplyOptions, ApplyResult, Executor
from engine.errors import SnapplanError, StalePlanError


class UI(Protocol):
    observer: object

    def show_plan(self, result) -> None: ...
    def can_confirm(self) -> None: ...
    def confirm(self) -> bool: ...
    def note(self, text: str) -> None: ...
    def lock_wait(self, holder) -> None: ...


class Cancelled(SnapplanError):
    """The person at the prompt did not answer yes."""


class StorageCheckFailed(SnapplanError):
    """A bucket this apply points Velero at would not work: refused before any write."""


def storages_to_check(plan) -> list[str]:
    """Storage whose location this apply creates, replaces or changes in its spec (or whose Secret it writes)."""
    from engine.plan.model import Action

    names = set()
    secrets = {c.address.name for c in plan.changes if c.address.kind == "Secret" and c.action is not Action.NOOP}
    for c in plan.changes:
        if c.address.kind != "BackupStorageLocation" or c.action is Action.DELETE:
            continue
        spec = (c.after or {}).get("spec") or {}
        touched = c.action in (Action.CREATE, Action.REPLACE) or any(f.path[0] == "spec" for f in c.fields)
        if touched or (spec.get("credential") or {}).get("name") in secrets:
            names.add(c.address.name)
    return sorted(names)


@dataclass(frozen=True)
class ApplyRequest:
    target: object  # ClusterTarget | StateFileTarget
    policy_path: Path | None = None
    saved_path: Path | None = None
    prune: bool = False
    targets: tuple[str, ...] = ()
    options: ApplyOptions = field(default_factory=ApplyOptions)
    env: object = None
    check_storage: bool = True  # S3 preflight of the buckets this apply points Velero at
    prepare: object = None  # () -> engine.planner.Prepared, instead of loading policy_path (a fleet's cluster)
    stop: object = None  # threading.Event; set: stop as on Ctrl-C (a fleet apply runs off the main thread)


def run_apply(req: ApplyRequest, ui: UI) -> ApplyResult | None:
    """None when there was nothing to do."""
    from engine.plan import saved as saved_plans
    from engine.plan.jsonform import plan_to_json
    from engine.planner import plan_against, prepare

    saved = saved_plans.load(req.saved_path) if req.saved_path else None
    policy_path = Path(saved["policy_argument"]) if saved else req.policy_path
    prune = saved["options"]["prune"] if saved else req.prune
    targets = tuple(saved["options"]["targets"]) if saved else req.targets
    prepared = req.prepare() if req.prepare is not None else prepare(policy_path, req.env)
    with req.target.open(prepared.policy.velero_namespace, ui.lock_wait) as session:
        if session.lock is not None and session.lock.took_over is not None:
            ui.note(f"took over the expired lock of {session.lock.took_over.name}")
        result = plan_against(prepared, session.read(), prune=prune, targets=targets)
        if saved:
            problems = saved_plans.differences(saved, policy=prepared.policy, desired=prepared.desired,
                                               live=result.live, plan_json=plan_to_json(result.plan),
                                               target=session.describe)
            if problems:
                raise StalePlanError(
                    f"the saved plan {req.saved_path} no longer holds; nothing was applied:\n"
                    + "\n".join(f"  - {p}" for p in problems)
                    + f"\nMake a new plan: {_replan(saved, policy_path, req.saved_path)}")
        ui.show_plan(result)
        if not result.plan.has_changes:
            return None
        if not saved:
            ui.can_confirm()  # no terminal and no --auto-approve: refuse before doing anything slow
        if req.check_storage:
            _check_storage(result, req.env, ui)
        if not saved and not ui.confirm():
            raise Cancelled("Apply cancelled.")
        options = req.options if session.waits else dataclasses.replace(req.options, wait=False)
        executor = Executor(result.plan, result.desired, session.writer, ui.observer, options)
        with _forwarded(req.stop, session.stop):
            outcome = executor.run(session.stop)
        if session.lock is not None and session.lock.lost.is_set():
            return dataclasses.replace(outcome, lock_lost=session.lock.lost_reason)
        return outcome


@contextmanager
def _forwarded(source, target):
    """While the block runs, setting `source` sets `target`."""
    if source is None:
        yield
        return
    done = threading.Event()

    def watch():
        while not done.is_set():
            if source.wait(0.2):
                target.set()
                return
    watcher = threading.Thread(target=watch, name="snapplan-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _replan(saved: dict, policy_path, saved_path) -> str:
    fleet = saved.get("fleet")
    if fleet:
        return f"snapplan plan --fleet {fleet['file']} --cluster {fleet['cluster']} --out {Path(saved_path).stem}"
    return f"snapplan plan -f {policy_path} --out {saved_path}"


def _check_storage(result, env, ui) -> None:
    import os

    from engine.storage import check_storage

    names = [n for n in storages_to_check(result.plan) if n in result.policy.storage]
    if not names:
        return
    ui.note(f"checking storage {', '.join(names)} before writing (skip with --skip-storage-check)")
    reports = check_storage(result.policy, os.environ if env is None else env, names=names)
    failures = [line for r in reports for line in r.failures]
    if failures:
        raise StorageCheckFailed(
            "the storage check failed; nothing was applied:\n" + "\n".join(f"  - {f}" for f in failures)
            + "\nFix the storage (snapplan storage check shows every check), or pass --skip-storage-check")
