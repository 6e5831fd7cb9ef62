"""`snapplan import`: write the policy that reproduces the live locations and schedules."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Terminal


def import_(
    state: Path = typer.Option(None, "--state",
                               help="Import from a cluster-state file (kubectl get ... -o yaml/json) instead of a cluster."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    output: Path = typer.Option(None, "-o", "--output",
                                help="Write the policy here (CA files beside it); default: standard output."),
    name: str = typer.Option(None, "--name",
                             help="Policy name; default: the one recorded on objects snapplan already manages."),
    namespace: str = typer.Option("velero", "--namespace", help="The namespace Velero runs in."),
    as_json: bool = typer.Option(False, "--json", help="Print the policy and the notes as JSON."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
) -> None:
    """Write a policy that reproduces the cluster's locations and schedules (restores are not imported)."""
    from engine.errors import SnapplanError
    from engine.importer import import_policy, render_policy, result_to_json
    from engine.importer.check import problems_of
    from engine.planner import read_live
    from engine.state.kube import KubeTarget

    term = Terminal(no_color)
    live = read_live(state, KubeTarget(kubeconfig, context), namespace)
    result = import_policy(live, namespace, name)
    text = render_policy(result, output.name if output else "policy.yaml")
    where = output.parent if output else Path(".")
    written = []
    for filename, data in sorted(result.files.items()):
        path = where / filename
        if path.exists() and path.read_bytes() != data:
            raise SnapplanError(f"{path} exists with other content; move it away or choose another -o directory")
        _write(path, data)
        written.append(str(path))
    if output:
        _write(output, text.encode("utf-8"))
    if as_json:
        term.out(json.dumps(result_to_json(result), indent=2))
    elif not output:
        term.out(text, end="")
    for note in result.notes:
        term.err(f"note: {note}")
    for path in written:
        term.err(f"wrote {path} (a CA bundle the policy names as caFile)")
    counts = {k: len(result.document.get(k) or {}) for k in ("storage", "snapshotLocations", "schedules")}
    summary = (f"Imported policy {result.name}: {counts['storage']} storage, {counts['snapshotLocations']} "
               f"snapshot location(s), {counts['schedules']} schedule(s); {len(result.not_imported)} not imported")
    term.err(summary + (f"; written to {output}" if output else ""))
    if not any(counts.values()) and not result.not_imported:
        term.warning("no BackupStorageLocation, VolumeSnapshotLocation or Schedule was found: is Velero in "
                     "another namespace (--namespace), or is this the right cluster/state file?")
    problems = problems_of(text, result.files)
    if problems:
        raise SnapplanError("the imported policy does not validate (edit these entries by hand):\n  "
                            + "\n  ".join(problems))


def _write(path: Path, data: bytes) -> None:
    from engine.errors import SnapplanError

    try:
        path.write_bytes(data)
    except OSError as exc:
        raise SnapplanError(f"cannot write {path}: {exc.strerror or exc}") from None
