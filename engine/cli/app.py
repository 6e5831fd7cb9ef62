"""Registers the commands and turns every failure into one message and an exit code."""
from __future__ import annotations

import sys

import typer

from engine.cli import apply_cmd, graph_cmd, import_cmd, plan_cmd, validate_cmd

app = typer.Typer(
    name="snapplan",
    help="Velero backup policy as code: validate a policy, plan it against a cluster, apply it.",
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.command("validate")(validate_cmd.validate)
app.command("plan")(plan_cmd.plan)
app.command("apply")(apply_cmd.apply)
app.command("import")(import_cmd.import_)
app.command("graph")(graph_cmd.graph)
from engine.cli import backup_cmd, snapshots_cmd  # noqa: E402  (snapshots and on-demand backups)
app.add_typer(backup_cmd.app, name="backup")
app.add_typer(snapshots_cmd.app, name="snapshots")
from engine.cli import storage_cmd  # noqa: E402  (storage preflight)
app.add_typer(storage_cmd.app, name="storage")
from engine.cli import audit_cmd  # noqa: E402  (audit)
app.command("audit")(audit_cmd.audit)
from engine.cli import fleet_cmd, render_cmd  # noqa: E402  (fleets)
app.command("render")(render_cmd.render)
app.add_typer(fleet_cmd.app, name="fleet")
from engine.cli import lock_cmd  # noqa: E402  (show or break the apply lock)
app.add_typer(lock_cmd.app, name="lock")
from engine.cli import show_cmd  # noqa: E402  (saved plans, for reviews)
app.command("show")(show_cmd.show)
from engine.cli import drill_cmd  # noqa: E402  (restore drills)
app.command("drill")(drill_cmd.drill)
from engine.cli import restores_cmd  # noqa: E402  (restores in the cluster, Velero's logs)
app.add_typer(restores_cmd.app, name="restores")


def _print_version(value: bool) -> None:
    if value:
        from engine import __version__

        print(f"snapplan {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """Velero backup policy as code: validate a policy, plan it against a cluster, apply it."""


def main() -> None:
    """Console entry point: usage errors exit 1 (2 means "changes" with --detailed-exitcode)."""
    from engine.cli.failures import report_bug, report_error, usage_errors
    from engine.errors import SnapplanError

    aborts, usage = usage_errors()
    try:
        code = app(standalone_mode=False)
    except aborts:
        sys.stderr.write("Aborted.\n")
        sys.exit(1)
    except usage as exc:
        exc.show()
        sys.exit(1)
    except SnapplanError as exc:
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except Exception as exc:  # a bug: keep the traceback, say how to report it
        sys.exit(report_bug(exc))
    sys.exit(code if isinstance(code, int) else 0)
