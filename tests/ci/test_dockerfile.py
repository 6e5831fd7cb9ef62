"""The Dockerfile, checked without building it: hadolint-style rules (tests/ci/dockerfile_rules.py), the files
it copies exist and are not excluded by .dockerignore, and the rules catch what they are meant to."""
from __future__ import annotations

import fnmatch

from tests.ci.dockerfile_rules import check, copy_sources, parse
from tests.helpers import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_passes_the_rules():
    assert check(DOCKERFILE) == []


def test_image_runs_snapplan_as_a_non_root_user_from_a_clean_stage():
    ins = parse(DOCKERFILE)
    final = max(i.stage for i in ins)
    assert [i.args for i in ins if i.op == "USER" and i.stage == final] == ["10001:10001"]
    assert [i.args for i in ins if i.op == "ENTRYPOINT"] == ['["snapplan"]']
    copies = [i.args for i in ins if i.op == "COPY" and i.stage == final]
    assert copies == ["--from=build /opt/snapplan /opt/snapplan"]  # only the venv: no sources, no pip cache
    build = " ".join(i.args for i in ins if i.op == "RUN" and i.stage < final)
    assert "--without-pip" in build and "install --no-cache-dir ." in build  # from this checkout


def test_what_the_dockerfile_copies_is_in_the_build_context():
    ignored = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    sources = copy_sources(DOCKERFILE)
    assert {"pyproject.toml", "engine", "schemas"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not any(fnmatch.fnmatch(src, pat) for pat in ignored), f"{src} is excluded by .dockerignore"


BAD = """
FROM python
FROM python:latest AS two
FROM python:3.12-slim
ADD https://example.com/x.tgz /x
ADD . /src
RUN apt-get update && apt-get install -y gcc
RUN pip install snapplan && cd /src
WORKDIR src
COPY . /app
USER root
CMD snapplan --help
"""


def test_the_rules_catch_each_mistake():
    rules = {f.split()[1] for f in check(BAD)}
    assert rules == {"DL3006", "DL3007", "SP001", "SP003", "DL3020", "DL3015", "DL3009", "SP004", "DL3042",
                     "DL3003", "DL3000", "SP005", "DL3002", "DL3025"}
    assert any(f.startswith("0 SP002") for f in check("FROM python:3.12.11-slim\nUSER 1000\n"))
    assert any("DL3002" in f for f in check("FROM a:1.2.3 AS b\nFROM a:1.2.3\nCOPY --from=b /x /x\n"))
    assert any("SP006" in f for f in check("FROM a:1.2.3 AS b\nFROM a:1.2.3\nUSER 10\nRUN id\n"))
