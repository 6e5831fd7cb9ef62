"""`plan --format markdown` and `show`: the pull-request comment a reviewer reads. Golden file of the harness
example, the risk section, secrets, escaping and GitHub's comment limit."""
from __future__ import annotations

import json
import re
import shutil

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from engine.plan.markdown import GITHUB_LIMIT, render_markdown
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, run_cli

HARNESS = ["-f", str(EXAMPLES / "harness" / "policy.yaml"), "--state",
           str(EXAMPLES / "harness" / "cluster-state.yaml"), "--now", NOW]
SECRETS = ["fakeSecretKeyForTheHarnessDemoOnly000001", HARNESS_ENV["MINIO_SECRET_KEY"],
           HARNESS_ENV["MINIO_ACCESS_KEY"], "AKIAFAKEHARNESS00001", "fakeLegacySecret"]


class MarkdownFile(SingleFileSnapshotExtension):
    """The golden comment as a .md file a reviewer can open and preview."""

    file_extension = "md"
    _write_mode = WriteMode.TEXT


def _relative(text: str) -> str:
    return text.replace(str(EXAMPLES), "examples")


def _details(md: str) -> list[str]:
    return re.findall(r"<details><summary><code>[^<]+</code> <b>([^<]+)</b>", md)


def test_markdown_plan_of_the_harness_example_is_the_golden_file(snapshot, capsys, monkeypatch):
    res = run_cli(["plan", "--format", "markdown", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    assert _relative(res.out) == snapshot(extension_class=MarkdownFile)


def test_markdown_plan_has_summary_first_and_every_change_folded(capsys, monkeypatch):
    md = run_cli(["plan", "--format", "markdown", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out
    doc = json.loads(run_cli(["plan", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out)
    first = md.splitlines()[1]
    assert first.startswith("### snapplan plan <code>harness-prod</code>:")
    assert first.endswith("4 to add, 2 to change, 0 to destroy.")
    acting = [r["address"] for r in doc["resource_changes"] if r["action"] != "no-op"]
    assert _details(md) == acting  # one <details> per object, in apply order
    assert '! spec.config.region               = "us-west-2" -> "us-east-1"' in md
    assert '- spec.config.serverSideEncryption = "AES256" -> null' in md
    assert "+ data.cloud" in md and "(sensitive)" in md
    assert "plugin local-volume-provider is missing" in md.split("#### Changes")[0]  # a risk, before the diffs
    for s in SECRETS:
        assert s not in md


def _scenario(tmp_path, edit) -> list[str]:
    """The harness example copied, with its policy edited; arguments for `plan` against its state."""
    work = tmp_path / "harness"
    shutil.copytree(EXAMPLES / "harness", work)
    policy = work / "policy.yaml"
    policy.write_text(edit(policy.read_text()))
    return ["-f", str(policy), "--state", str(work / "cluster-state.yaml"), "--now", NOW]


def _risky(text: str) -> str:
    text = text.replace("    retention: 30d\n    enabled: true", "    retention: 7d\n    enabled: false")
    text = text.replace("    default: true\n", "    default: false\n")
    text = text.replace("    type: s3-compatible\n", "    type: s3-compatible\n    default: true\n")
    return text + ("  restore-drill:\n    from: {backup: nightly-full-20261124230000}\n    scope: application\n"
                   "    app: harness\n    existingResources: update\n")


def test_risk_section_names_what_reviewers_must_not_miss(tmp_path, capsys, monkeypatch):
    args = _scenario(tmp_path, _risky)
    res = run_cli(["plan", "--prune", "--format", "markdown", *args], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    risks = res.out.split("#### Review before merging")[1].split("#### Changes")[0]
    assert "<code>schedule.old-hourly</code> will be destroyed" in risks
    assert ("<code>schedule.nightly-full</code> keeps backups <code>168h0m0s</code> instead of "
            "<code>336h0m0s</code>") in risks
    assert "the 14 existing backup(s) of this schedule keep their current expiry" in risks
    assert "default backup location changes from <code>primary</code> to <code>minio</code>" in risks
    assert "<code>schedule.nightly-full</code> will be paused" in risks
    assert "<code>restore.restore-drill</code> restores backup <code>nightly-full-20261124230000</code>" in risks
    assert "<code>harness</code> (in place)" in risks and "<b>overwritten</b>" in risks
    # the order a reviewer reads: deletions, retention, default location, pauses, restores
    order = [risks.index(s) for s in ("will be destroyed", "keeps backups", "default backup location",
                                      "will be paused", "restores backup")]
    assert order == sorted(order)


def test_lengthened_retention_and_a_quiet_plan_are_not_risks(tmp_path, capsys, monkeypatch):
    md = run_cli(["plan", "--format", "markdown", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out
    assert "keeps backups" not in md  # 336h -> 720h is longer: a warning, not a risk
    assert "retention changes from 336h0m0s to 720h0m0s" in md
    args = _scenario(tmp_path, lambda t: t.replace("type: hostpath", "type: hostpath\n    protect: true"))
    doc = json.loads(run_cli(["plan", "--json", *args], capsys, monkeypatch, env=HARNESS_ENV).out)
    doc["velero"]["checks"] = [c for c in doc["velero"]["checks"] if c["ok"]]
    doc["warnings"] = []
    md = render_markdown(doc)
    assert "**Risks:** none" in md


def test_a_location_moving_is_a_risk_with_the_backups_it_drops(tmp_path, capsys, monkeypatch):
    args = _scenario(tmp_path, lambda t: t.replace("    prefix: prod\n", "    prefix: prod2\n"))
    res = run_cli(["plan", "--format", "markdown", *args], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    risks = res.out.split("#### Review before merging")[1].split("#### Changes")[0]
    assert ("<code>bsl.primary</code> points elsewhere (<code>spec.objectStorage.prefix</code> <code>prod</code> → "
            "<code>prod2</code>)") in risks
    assert "delete the 16 Backup object(s) of this location" in risks


def test_replacement_is_a_risk(capsys, monkeypatch):
    # a provider change on a location the plan may replace (the harness's is protected: plan refuses that)
    doc = json.loads(run_cli(["plan", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out)
    change = next(r for r in doc["resource_changes"] if r["address"] == "bsl.primary")
    change["action"] = "replace"
    change["fields"] = [{"path": "spec.provider", "op": "~", "before": "aws", "after": "velero.io/gcp",
                         "sensitive": False}]
    md = render_markdown(doc)
    risks = md.split("#### Review before merging")[1].split("#### Changes")[0]
    assert "<code>bsl.primary</code> will be deleted and created again" in risks
    assert "<code>spec.provider</code> <code>aws</code> → <code>velero.io/gcp</code>" in risks
    assert "<code>-/+</code> <b>bsl.primary</b> must be replaced" in md


def test_user_text_cannot_inject_markdown_or_html(capsys, monkeypatch):
    doc = json.loads(run_cli(["plan", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out)
    doc["warnings"] = ["bsl.x: <img src=x onerror=alert(1)> **bold** [link](http://evil) | a | b |"]
    doc["velero"]["checks"].append({"ok": False, "message": "</details><script>x</script>"})
    md = render_markdown(doc)
    assert "<img" not in md and "<script>" not in md and "</details><script>" not in md
    assert "&lt;img src=x onerror=alert(1)&gt; \\*\\*bold\\*\\* \\[link\\](http://evil) \\| a \\| b \\|" in md


def test_a_value_holding_backticks_cannot_close_the_diff_block(capsys, monkeypatch):
    doc = json.loads(run_cli(["plan", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out)
    change = next(r for r in doc["resource_changes"] if r["address"] == "bsl.primary")
    change["fields"][0]["after"] = "```\n<b>x</b>"
    md = render_markdown(doc)
    block = md.split("<b>bsl.primary</b>")[1].split("</details>")[0]
    assert "\n````diff\n" in block and "\n````\n" in block


def _many_schedules(n: int) -> str:
    lines = ["apiVersion: snapplan/v1", "kind: BackupPolicy", "metadata: {name: big}",
             "apps: {shop: {namespaces: [shop]}}",
             "storage: {main: {type: aws, default: true, bucket: bkt, region: us-east-1,"
             " credentials: {secretRef: {name: cloud-credentials, key: cloud}}}}", "schedules:"]
    lines += [f"  app-{i:04d}: {{scope: application, app: shop, schedule: daily, retention: 7d}}" for i in range(n)]
    return "\n".join(lines) + "\n"


def test_a_long_plan_is_cut_to_githubs_comment_limit_with_a_note(tmp_path, capsys, monkeypatch):
    policy = tmp_path / "policy.yaml"
    policy.write_text(_many_schedules(150))
    state = tmp_path / "state.yaml"
    state.write_text("apiVersion: v1\nkind: List\nitems: []\n")
    res = run_cli(["plan", "--format", "markdown", "-f", str(policy), "--state", str(state), "--now", NOW,
                   "--out", str(tmp_path / "big.plan")], capsys, monkeypatch)
    assert res.code == 0, res.err
    md = res.out
    assert len(md) <= GITHUB_LIMIT
    shown = _details(md)
    assert 0 < len(shown) < 151
    assert md.splitlines()[1].endswith("151 to add, 0 to change, 0 to destroy.")
    cut = 151 - len(shown)
    assert (f"**Plan cut short:** {cut} of 151 changed objects are not shown, to stay within GitHub's 65536-"
            "character comment limit") in md
    assert f"`snapplan show {tmp_path / 'big.plan'}`" in md
    assert md.count("<details>") == md.count("</details>")  # no block cut in half
    assert md.count("```") % 2 == 0


def test_a_huge_summary_alone_is_cut_too():
    doc = {"policy": "p", "state": "s", "namespace": "velero", "generated_at": NOW, "has_changes": True,
           "summary": {"add": 0, "change": 0, "destroy": 3000}, "warnings": [], "unmanaged": [], "kept": [],
           "velero": {"checked": False, "version": None, "checks": []},
           "resource_changes": [{"address": f"schedule.s{i:05d}", "kind": "Schedule", "name": f"s{i:05d}",
                                 "namespace": "velero", "action": "delete", "before": {"spec": {}}, "after": None,
                                 "fields": [], "depends_on": [], "reasons": []} for i in range(3000)]}
    md = render_markdown(doc, limit=GITHUB_LIMIT)
    assert len(md) <= GITHUB_LIMIT
    assert "more lines of the summary are cut." in md and "**Plan cut short:** 3000 of 3000" in md


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_prints_a_saved_plan_as_plan_printed_it(fmt, tmp_path, capsys, monkeypatch):
    saved = tmp_path / "review.plan"
    flag = ["--format", fmt]
    made = run_cli(["plan", *flag, *HARNESS, "--out", str(saved)], capsys, monkeypatch, env=HARNESS_ENV)
    assert made.code == 0, made.err
    shown = run_cli(["show", str(saved), *flag], capsys, monkeypatch)
    assert shown.code == 0, shown.err
    if fmt == "json":  # the saved file sorts keys; the document is the same
        assert json.loads(shown.out) == json.loads(made.out)
    else:
        assert shown.out == made.out
    for s in SECRETS:
        assert s not in shown.out


def test_show_json_flag_and_its_mistakes(tmp_path, capsys, monkeypatch):
    saved = tmp_path / "review.plan"
    run_cli(["plan", *HARNESS, "--out", str(saved)], capsys, monkeypatch, env=HARNESS_ENV)
    doc = json.loads(run_cli(["show", "--json", str(saved)], capsys, monkeypatch).out)
    assert doc["summary"] == {"add": 4, "change": 2, "destroy": 0}
    res = run_cli(["show", "--json", "--format", "markdown", str(saved)], capsys, monkeypatch)
    assert res.code == 1 and "--json and --format markdown ask for two formats" in res.err
    res = run_cli(["show", str(tmp_path / "nope.plan")], capsys, monkeypatch)
    assert res.code == 1 and "saved plan not found" in res.err and "Traceback" not in res.err
    (tmp_path / "x.plan").write_text("{}")
    res = run_cli(["show", str(tmp_path / "x.plan")], capsys, monkeypatch)
    assert res.code == 1 and "not a snapplan saved plan" in res.err
