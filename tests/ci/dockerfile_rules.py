"""A small hadolint-style check of a Dockerfile: parse it into instructions, then rules that return findings.

Rule ids follow hadolint's where one exists (DL3006 untagged base, DL3007 :latest, DL3020 ADD for files,
DL3009 apt lists left, DL3015 recommends, DL3042 pip cache, DL3002 root user, DL3025 JSON form, DL3000
relative WORKDIR, DL3004 sudo); SP* are ours.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Instruction:
    line: int
    op: str
    args: str
    stage: int  # index of the FROM it belongs to


def parse(text: str) -> list[Instruction]:
    out, stage, pending, start = [], -1, "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = no
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        op, _, args = full.partition(" ")
        op = op.upper()
        if op == "FROM":
            stage += 1
        out.append(Instruction(start, op, args.strip(), stage))
    return out


def _arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    defaults = {}
    for i in instructions:
        if i.op == "ARG" and i.stage == -1 and "=" in i.args:
            k, v = i.args.split("=", 1)
            defaults[k.strip()] = v.strip().strip('"')
    return defaults


def _expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def check(text: str) -> list[str]:
    """Findings as `LINE RULE message`; empty when the file passes."""
    ins = parse(text)
    args = _arg_defaults(ins)
    found: list[str] = []

    def bad(i: Instruction, rule: str, message: str) -> None:
        found.append(f"{i.line} {rule} {message}")

    froms = [i for i in ins if i.op == "FROM"]
    stage_names = {}
    for i in froms:
        words = i.args.split()
        image = _expand(words[0], args)
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names[words[2]] = i.stage
        if image in stage_names or image == "scratch":
            continue
        name, _, digest = image.partition("@")
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
        if not tag and not digest:
            bad(i, "DL3006", f"base image {image} has no tag")
        elif tag == "latest":
            bad(i, "DL3007", f"base image {image} uses :latest")
        elif not digest and not re.match(r"^\d+\.\d+\.\d+", tag):
            bad(i, "SP001", f"base image {image}: pin a full version (3.12.11-slim) or a digest")
    if len(froms) < 2:
        found.append("0 SP002 not multi-stage: build in one stage, copy the result into a clean one")
    last = len(froms) - 1
    for i in ins:
        if i.op == "ADD" and re.search(r"(?:^|\s)(?:https?|ftp)://", i.args):
            bad(i, "SP003", "ADD of a URL: download with a checked step in a build stage")
        elif i.op == "ADD":
            bad(i, "DL3020", "use COPY for files and folders")
        if i.op == "RUN":
            cmd = i.args
            if re.search(r"\bsudo\b", cmd):
                bad(i, "DL3004", "do not use sudo")
            if re.search(r"\bapt-get\s+(?:-\S+\s+)*install\b", cmd):
                if "--no-install-recommends" not in cmd:
                    bad(i, "DL3015", "apt-get install without --no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in cmd:
                    bad(i, "DL3009", "apt lists left in the layer: rm -rf /var/lib/apt/lists/* in the same RUN")
                if i.stage == last and re.search(r"\b(?:build-essential|gcc|g\+\+|make|git)\b", cmd):
                    bad(i, "SP004", "build tools installed in the final image")
            if re.search(r"\bpip3?\b[^&;|]*\binstall\b", cmd) and "--no-cache-dir" not in cmd:
                bad(i, "DL3042", "pip install without --no-cache-dir")
            if re.search(r"(?:^|&&|;)\s*cd\s", cmd):
                bad(i, "DL3003", "use WORKDIR, not cd")
        if i.op == "WORKDIR" and not _expand(i.args, args).startswith(("/", "$")):
            bad(i, "DL3000", f"WORKDIR {i.args} is not absolute")
        if i.op in ("ENTRYPOINT", "CMD") and not i.args.startswith("["):
            bad(i, "DL3025", f"{i.op} in shell form: use the JSON form")
        if i.op == "COPY" and i.stage == last and "--from=" not in i.args:
            bad(i, "SP005", "the final stage copies from the build context: copy the build stage's result")
    users = [i for i in ins if i.op == "USER" and i.stage == last]
    if not users:
        found.append("0 DL3002 the final stage sets no USER: it would run as root")
    else:
        who = users[-1].args.split(":")[0]
        if who in ("root", "0"):
            bad(users[-1], "DL3002", f"last USER is {who}")
        later = [i for i in ins if i.stage == last and i.line > users[-1].line and i.op == "RUN"]
        for i in later:
            bad(i, "SP006", "RUN after USER in the final stage: set up as root first, then switch")
    return found


def copy_sources(text: str) -> list[str]:
    """The build-context paths that COPY instructions read (not --from copies)."""
    out = []
    for i in parse(text):
        if i.op == "COPY" and "--from=" not in i.args:
            words = [w for w in shlex.split(i.args) if not w.startswith("--")]
            out += words[:-1]
    return out
