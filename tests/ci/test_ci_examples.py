"""examples/ci: the GitHub Actions and GitLab CI files are valid against their published schemas (vendored in
tests/ci/schemas, see its README), every `snapplan ...` line they run exists with the flags it uses, and the
GitLab note helper keeps one comment per merge request."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.ci.commands import check_call, shell_lines, snapplan_calls
from tests.helpers import ROOT

SCHEMAS = Path(__file__).parent / "schemas"
GITHUB = ROOT / "examples" / "ci" / "github" / "snapplan.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"


class _Yaml12ishLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: `on:` is the key "on", as GitHub reads it, not True (YAML 1.1)."""


_Yaml12ishLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for first in "tTfF":
    _Yaml12ishLoader.add_implicit_resolver("tag:yaml.org,2002:bool", __import__("re").compile(
        r"^(?:true|True|TRUE|false|False|FALSE)$"), list(first))


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_Yaml12ishLoader)


def _schema_errors(doc: dict, schema: str) -> list[str]:
    validator = Draft7Validator(json.loads((SCHEMAS / schema).read_text()))
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc))


def _github_scripts(doc: dict) -> list[str]:
    return [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]


def _gitlab_scripts(doc: dict) -> list[str]:
    out = []
    for name, job in doc.items():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                out += [line for line in job.get(key, []) if isinstance(line, str)]
    return out


def _calls(scripts: list[str]) -> list[list[str]]:
    return [call for s in scripts for line in shell_lines(s) for call in snapplan_calls(line)]


def test_github_workflow_is_valid_against_its_schema():
    doc = _load(GITHUB)
    assert _schema_errors(doc, "github-workflow.json") == []
    broken = json.loads(json.dumps(doc))
    del broken["jobs"]["plan"]["runs-on"]
    broken["jobs"]["apply"]["environment"] = ["not", "a", "string"]
    assert len(_schema_errors(broken, "github-workflow.json")) >= 2  # the check can fail


def test_gitlab_pipeline_is_valid_against_its_schema():
    doc = _load(GITLAB)
    assert _schema_errors(doc, "gitlab-ci.json") == []
    broken = json.loads(json.dumps(doc))
    broken["apply"]["when"] = "sometimes"
    assert _schema_errors(broken, "gitlab-ci.json")


@pytest.mark.parametrize("path, scripts", [(GITHUB, _github_scripts), (GITLAB, _gitlab_scripts)])
def test_every_snapplan_command_in_ci_exists_with_its_flags(path, scripts):
    calls = _calls(scripts(_load(path)))
    problems = [f"snapplan {' '.join(c)}: {p}" for c in calls for p in check_call(c)]
    assert problems == []
    commands = [c[0] for c in calls]
    assert {"validate", "plan", "show", "apply"} <= set(commands)
    plan = next(c for c in calls if c[0] == "plan")
    assert "--out" in plan and plan[plan.index("--format") + 1] == "markdown"
    apply = next(c for c in calls if c[0] == "apply")
    doc = _load(path)
    env = doc.get("env") or doc.get("variables") or {}
    saved = env.get(apply[1].lstrip("$"), apply[1])
    assert saved.endswith(".plan") and "-f" not in apply  # exactly the saved plan, not a fresh one


def test_the_command_check_catches_unknown_commands_and_flags():
    assert check_call(["plan", "--nope"]) == ["snapplan plan has no option --nope"]
    assert check_call(["plann", "-f", "x"]) == ["snapplan has no command 'plann'"]
    assert check_call(["plan", "--format=markdown", "-f", "p"]) == []
    assert snapplan_calls('x=$(snapplan plan -f "$P" --out a.plan --format markdown > plan.md) && snapplan show a') \
        == [["plan", "-f", "$P", "--out", "a.plan", "--format", "markdown"], ["show", "a"]]


def test_github_plan_and_apply_share_the_plan_signing_key():
    doc = _load(GITHUB)
    # saved plans are signed with SNAPPLAN_PLAN_KEY or a key file of the machine: jobs on two runners need
    # the variable, from one secret
    assert doc["env"]["SNAPPLAN_PLAN_KEY"] == "${{ secrets.SNAPPLAN_PLAN_KEY }}"
    assert all("SNAPPLAN_PLAN_KEY" not in (step.get("env") or {}) for job in doc["jobs"].values()
               for step in job["steps"])  # not overridden by a step


def test_github_apply_runs_only_on_merge_in_a_protected_environment_with_the_plan_artifact():
    doc = _load(GITHUB)
    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert "merged == true" in apply["if"] and apply["environment"] == "velero-production"
    upload = next(s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    download = next(s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert upload["with"]["name"] == download["with"]["name"]
    assert "${{ env.PLAN }}" in upload["with"]["path"]
    assert download["with"]["run-id"].startswith("${{ steps.planrun.outputs")
    assert "pull-requests" not in apply["permissions"]  # apply cannot rewrite the review


def test_gitlab_apply_runs_on_the_default_branch_in_a_protected_environment():
    doc = _load(GITLAB)
    assert doc["apply"]["environment"]["name"] == "velero-production"
    assert doc["apply"]["rules"][0]["if"].startswith("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
    assert "plans/" in doc["plan"]["artifacts"]["paths"]


class _FakeGitLab(BaseHTTPRequestHandler):
    notes: list[dict] = []

    def _reply(self, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        assert self.headers["PRIVATE-TOKEN"] == "tok"
        self._reply(self.notes)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.notes.append({"id": len(self.notes) + 1, "body": body["body"]})
        self._reply(self.notes[-1])

    def do_PUT(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        note = next(n for n in self.notes if self.path.endswith(f"/notes/{n['id']}"))
        note["body"] = body["body"]
        self._reply(note)

    def log_message(self, *args):
        pass


def test_gitlab_note_helper_posts_once_then_updates(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("mr_note", ROOT / "examples" / "ci" / "gitlab" / "mr_note.py")
    mr_note = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mr_note)
    _FakeGitLab.notes = [{"id": 1, "body": "LGTM"}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitLab)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("CI_API_V4_URL", f"http://127.0.0.1:{server.server_port}/api/v4")
        for k, v in {"CI_PROJECT_ID": "7", "CI_MERGE_REQUEST_IID": "3", "SNAPPLAN_GITLAB_TOKEN": "tok"}.items():
            monkeypatch.setenv(k, v)
        md = tmp_path / "plan.md"
        for summary in ("1 to add", "2 to add"):
            md.write_text(f"<!-- snapplan-plan policy=prod -->\n### {summary}\n")
            mr_note.main(str(md))
    finally:
        server.shutdown()
    assert len(_FakeGitLab.notes) == 2 and _FakeGitLab.notes[0]["body"] == "LGTM"
    assert _FakeGitLab.notes[1]["body"].endswith("### 2 to add\n")
