"""Glue for commands: policy file + state source -> Plan, running each pipeline stage once."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from engine.errors import Diagnostic, SnapplanError
from engine.plan.model import Plan


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    policy_warnings: tuple[Diagnostic, ...]
    desired: object = None  # DesiredState: what apply writes
    live: object = None  # LiveState: what the plan was made against
    policy: object = None


@dataclass(frozen=True)
class Prepared:
    """The policy loaded and turned into desired objects: everything a plan needs but the live state."""

    policy: object
    warnings: tuple[Diagnostic, ...]
    desired: object


def parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SnapplanError(f"--now {text!r} is not an RFC 3339 time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def read_live(state_path: Path | None, kube, namespace: str):
    """The live state: from a state file when one is given, else from the cluster `kube` points at."""
    if state_path is not None:
        from engine.state import read_state_file

        return read_state_file(state_path, namespace)
    from engine.state.kube import api_client, read_cluster

    with api_client(kube) as api:
        return read_cluster(api, namespace)


def prepare(policy_path: Path, env=None) -> Prepared:
    from engine.model import build_desired
    from engine.spec import load_policy

    env = os.environ if env is None else env
    policy, warnings = load_policy(policy_path, strict_sources=True, env=env)
    return Prepared(policy, tuple(warnings), build_desired(policy, env))


def plan_against(prepared: Prepared, live, *, prune: bool = False, targets: tuple[str, ...] = (),
                 now: str | None = None) -> PlanResult:
    from engine.plan.build import PlanOptions, make_plan
    from engine.plan.restores import resolve_restores

    when = parse_now(now)
    resolved = resolve_restores(prepared.desired, live, when)
    plan = make_plan(resolved.desired, live, PlanOptions(now=when, prune=prune, targets=targets, restores=resolved))
    return PlanResult(plan, prepared.warnings, resolved.desired, live, prepared.policy)


def plan_from_files(policy_path: Path, state_path: Path | None, *, kube=None, prune: bool = False,
                    targets: tuple[str, ...] = (), now: str | None = None, env=None) -> PlanResult:
    prepared = prepare(policy_path, env)
    live = read_live(state_path, kube, prepared.policy.velero_namespace)
    return plan_against(prepared, live, prune=prune, targets=targets, now=now)
