"""An ImportResult as policy YAML (a header, each entry's notes as comments above it) or as JSON."""
from __future__ import annotations

import textwrap

import yaml

from engine.importer.build import ImportResult

SECTIONS = ("apps", "storage", "snapshotLocations", "schedules")
WIDTH = 110


class _Dumper(yaml.SafeDumper):
    """Block style, except lists of plain values, which read better inline: [harness, harness-db]."""


def _list(dumper: yaml.SafeDumper, data: list):
    flow = all(isinstance(v, (str, int, float, bool)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


class _Flow(dict):
    """A small map written inline: credentials: {secretRef: {name: cloud-credentials}}."""


def _flow(dumper: yaml.SafeDumper, data: dict):
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(data), flow_style=True)


_Dumper.add_representer(list, _list)
_Dumper.add_representer(_Flow, _flow)


def _dump(value: dict) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=WIDTH,
                     allow_unicode=True)


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, WIDTH - len(indent) - 2)]


def render_policy(result: ImportResult, output_name: str = "policy.yaml") -> str:
    """The policy file's text. Deterministic: no times, entries in name order."""
    lines = [f"# Imported by `snapplan import` from {result.source} (namespace {result.namespace}).",
             "# It reproduces the live BackupStorageLocations, VolumeSnapshotLocations and Schedules; check with",
             f"#   snapplan plan -f {output_name} --state FILE (or --kubeconfig): objects snapplan manages show",
             "#   no changes; the others become managed on the next apply (the plan shows the label change)."]
    if result.restores:
        lines += _comment(f"Restores are not imported: a restore runs once (in the cluster: "
                          f"{', '.join(result.restores)}).")
    else:
        lines.append("# Restores are not imported: a restore runs once.")
    skipped = [n for n in result.notes if n.entry in result.not_imported]
    if skipped:
        lines.append("# Not imported:")
        for n in skipped:
            lines += [f"#   {line}" for line in textwrap.wrap(str(n), WIDTH - 4, subsequent_indent="  ")]
    body = {k: result.document[k] for k in ("apiVersion", "kind", "metadata", "veleroNamespace", "externalStorage")
            if k in result.document}
    lines += _dump(body).splitlines()
    for section in SECTIONS:
        entries = result.document.get(section)
        if not entries:
            continue
        lines += ["", f"{section}:"]
        for name, entry in entries.items():
            for note in result.notes:
                if note.entry == f"{section}.{name}":
                    lines += _comment(note.message, "  ")
            styled = {k: _Flow(v) if k in ("credentials", "labelSelector") else v for k, v in entry.items()}
            lines += ["  " + line for line in _dump({name: styled}).splitlines()]
    return "\n".join(lines) + "\n"


def result_to_json(result: ImportResult) -> dict:
    return {
        "policy": result.document,
        "name": result.name,
        "namespace": result.namespace,
        "source": result.source,
        "notes": [{"entry": n.entry, "message": n.message} for n in result.notes],
        "not_imported": list(result.not_imported),
        "restores_not_imported": list(result.restores),
        "files": sorted(result.files),
    }
