"""Saved plans: `plan --out FILE` writes one, `apply FILE` carries it out only if it still holds.

A saved plan holds what is needed to prove it is still the plan apply would make: the policy files'
hashes, the resourceVersion of every object read, keyed digests of the credential sources and of the
objects read (never their values), the target it was made against, the options, and the plan itself
(plan.schema.json). Apply re-reads all of it and refuses on any difference, naming it.

The whole file is signed (HMAC-SHA256) with the key of engine.plan.key, kept outside the file: apply
refuses a plan whose signature does not match before it reads anything else from it, so an edit (turning
on prune and adding the matching delete, say) is refused even when it is consistent.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine import __version__
from engine.atomic import write_atomic
from engine.errors import SnapplanError, StalePlanError
from engine.plan.key import Signer, load_key, new_salt

FORMAT = "snapplan-saved-plan/2"
DEFAULT_DIR = Path("plans")


def output_path(text: str) -> Path:
    """`--out NAME` (no directory) goes to plans/NAME.plan; a path with a directory is used as given."""
    path = Path(text)
    if path.parent == Path("."):
        path = DEFAULT_DIR / path
    return path if path.suffix else path.with_suffix(".plan")


def file_hashes(paths) -> list[dict]:
    out = []
    for p in sorted(str(p) for p in paths):
        try:
            data = Path(p).read_bytes()
        except OSError as exc:
            raise SnapplanError(f"cannot read policy file {p}: {exc.strerror or exc}") from None
        out.append({"path": str(Path(p).resolve()), "sha256": hashlib.sha256(data).hexdigest()})
    return out


def credential_digests(desired, signer: Signer) -> dict[str, dict[str, str]]:
    """Keyed and salted: an unkeyed sha256 of a short secret falls to a dictionary (minioadmin/minio123)."""
    return {str(a): {k: signer.digest(v) for k, v in o.secret.items()}
            for a, o in sorted(desired.objects.items(), key=lambda kv: str(kv[0])) if o.secret}


def read_versions(live) -> dict[str, str]:
    """resourceVersion of every object read except Backups (schedules add those all the time)."""
    return {str(a): (o.get("metadata") or {}).get("resourceVersion", "")
            for a, o in sorted(live.objects.items(), key=lambda kv: str(kv[0])) if a.kind != "Backup"}


def restore_sources(plan_json: dict, live) -> dict[str, str | None]:
    """The phase of each backup a planned restore reads (None: not in the cluster, e.g. still to be synced)."""
    from engine.addr import Address

    out: dict[str, str | None] = {}
    for c in plan_json["resource_changes"]:
        name = ((c.get("after") or {}).get("spec") or {}).get("backupName")
        if c["kind"] == "Restore" and c["action"] == "create" and name:
            backup = live.get(Address("Backup", plan_json["namespace"], name))
            out[name] = ((backup or {}).get("status") or {}).get("phase") if backup else None
    return out


def content_digests(live, signer: Signer) -> dict[str, str]:
    """A keyed hash of what each object read holds apart from its status (engine.state.live.content_view):
    Velero rewrites status all the time (a location is revalidated every minute, a schedule stamps
    lastBackup), which bumps resourceVersion without changing anything a plan acts on."""
    from engine.state.live import content_view

    return {str(a): signer.digest(json.dumps(content_view(o), sort_keys=True, default=str).encode())
            for a, o in sorted(live.objects.items(), key=lambda kv: str(kv[0])) if a.kind != "Backup"}


def comparable(plan_json: dict) -> list[dict]:
    """The part of a plan that apply acts on: addresses, actions and field changes (not reasons or times)."""
    return [{"address": c["address"], "action": c["action"], "fields": c["fields"]}
            for c in plan_json["resource_changes"] if c["action"] != "no-op"]


def build(*, policy_arg: str, policy, desired, live, plan_json: dict, target: dict, options: dict) -> dict:
    """The saved plan, signed with this machine's plan key (made on first use)."""
    signer = Signer(load_key(create=True)[0], new_salt())
    saved = {
        "format": FORMAT,
        "snapplan_version": __version__,
        "salt": signer.salt,
        "key_id": signer.key_id,
        "policy_argument": str(Path(policy_arg).resolve()),
        "policy_files": file_hashes(policy.files),
        "credentials": credential_digests(desired, signer),
        "target": target,
        "options": options,
        "read": read_versions(live),
        "content": content_digests(live, signer),
        "restore_sources": restore_sources(plan_json, live),
        "plan": plan_json,
    }
    return {**saved, "mac": signer.sign(saved)}


def sign(saved: dict) -> dict:
    """Sign again after adding a field (plan --out records the kubeconfig after build)."""
    signer = Signer(load_key(create=True)[0], saved["salt"])
    return {**saved, "mac": signer.sign(saved)}


def write(path: Path, saved: dict) -> Path:
    """Atomically, mode 0600 from the first byte (it names the cluster and the policy's layout); any path
    that cannot be written is one clear error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(0, "it is a directory")
        write_atomic(path, json.dumps(saved, indent=1, sort_keys=True) + "\n", 0o600)
    except OSError as exc:
        raise SnapplanError(f"cannot save the plan to {path}: {exc.strerror or exc}; nothing was saved "
                            "(give --out a path you can write)") from None
    return path


def load(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapplanError(f"{path}: saved plan not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapplanError(f"{path}: cannot read saved plan: {exc}") from None
    try:
        saved = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapplanError(f"{path}:{exc.lineno}:{exc.colno}: not a saved plan (invalid JSON: {exc.msg})") from None
    if isinstance(saved, dict) and saved.get("format") == "snapplan-saved-plan/1":
        raise StalePlanError(f"{path} was made by an older snapplan, without a signature; make the plan again")
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise SnapplanError(f"{path}: not a snapplan saved plan (made with `snapplan plan --out`)")
    _verify(path, saved)
    if saved.get("snapplan_version") != __version__:
        raise StalePlanError(f"{path} was made by snapplan {saved.get('snapplan_version')}, this is {__version__}; "
                             "make the plan again with this version")
    return saved


def _verify(path: Path, saved: dict) -> None:
    key, where = load_key(create=False)
    signer = Signer(key, str(saved.get("salt") or ""))
    if signer.verify(saved):
        return
    if saved.get("key_id") != signer.key_id:
        raise TamperedPlanError(
            f"{path} is not signed with this machine's saved-plan key ({where}): it was made elsewhere, or "
            "changed after `snapplan plan` wrote it. Nothing was applied. Apply it where it was made (or with "
            "the same SNAPPLAN_PLAN_KEY), or make a new plan here")
    raise TamperedPlanError(
        f"{path} was changed after `snapplan plan` wrote it (its signature does not match its content). "
        "Nothing was applied. Make a new plan, review it, and apply that")


class TamperedPlanError(SnapplanError):
    """A saved plan whose signature does not hold: edited, or made with another key."""


def differences(saved: dict, *, policy, desired, live, plan_json: dict, target: dict) -> list[str]:
    """Why a saved plan no longer holds; empty when it does (its signature was checked by load)."""
    problems: list[str] = []
    signer = Signer(load_key(create=False)[0], saved["salt"])
    if saved["target"] != target:
        problems.append(f"it was made against {_target(saved['target'])}, not {_target(target)}")
    was = {f["path"]: f["sha256"] for f in saved["policy_files"]}
    now = {f["path"]: f["sha256"] for f in file_hashes(policy.files)}
    for p in sorted(set(was) | set(now)):
        if p not in now:
            problems.append(f"policy file {p} is no longer part of the policy")
        elif p not in was:
            problems.append(f"policy file {p} was added to the policy")
        elif was[p] != now[p]:
            problems.append(f"policy file {p} changed since the plan")
    creds = credential_digests(desired, signer)
    for addr in sorted(set(saved["credentials"]) | set(creds)):
        if saved["credentials"].get(addr) != creds.get(addr):
            problems.append(f"the credential source of {addr} changed since the plan (its hash differs)")
    from engine.addr import Address

    for name, phase in sorted((saved.get("restore_sources") or {}).items()):
        backup = live.get(Address("Backup", saved["plan"]["namespace"], name))
        now_phase = ((backup or {}).get("status") or {}).get("phase") if backup else None
        if phase is not None and now_phase != phase:
            problems.append(f"backup {name}, which a planned restore reads, was {phase} at plan time and is now "
                            f"{now_phase or 'not in the cluster'}")
    read, content = read_versions(live), content_digests(live, signer)
    for addr in sorted(set(saved["read"]) | set(read)):
        before, after = saved["read"].get(addr), read.get(addr)
        if before is None:
            problems.append(f"{addr} was created since the plan (resourceVersion {after})")
        elif after is None:
            problems.append(f"{addr} was deleted since the plan")
        elif before != after and saved["content"].get(addr) != content.get(addr):
            problems.append(f"{addr} changed since the plan (resourceVersion {before} -> {after})")
    if not problems and comparable(saved["plan"]) != comparable(plan_json):
        planned = {c["address"]: c for c in comparable(saved["plan"])}
        fresh = {c["address"]: c for c in comparable(plan_json)}
        for addr in sorted(set(planned) | set(fresh)):
            a, b = planned.get(addr), fresh.get(addr)
            if a == b:
                continue
            if a and b and a["action"] == b["action"]:
                problems.append(f"{addr}: a plan made now would {b['action']} other fields")
            else:
                problems.append(f"{addr}: planned {a['action'] if a else 'nothing'}, "
                                f"a plan made now would {b['action'] if b else 'do nothing'}")
    return problems


def _target(t: dict) -> str:
    if t.get("kind") == "state":
        return f"state file {t.get('path')}"
    return f"cluster {t.get('server')} (context {t.get('context') or 'current'})"
