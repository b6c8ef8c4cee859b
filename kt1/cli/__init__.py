"""The ``kt1`` command line: Flask's CLI for this app plus the project's own commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from kt1 import create_app


def register(app: Flask) -> None:
    """Add the project's commands to ``app.cli`` (so ``kt1`` and test runners see them)."""
    from kt1.cli import admin, demo, devices, envelopes, leaving, units

    for command in (demo.demo_command, envelopes.envelope_group, units.unit_group,
                    units.user_group, devices.device_group, admin.admin_group):
        app.cli.add_command(command)
    for command in leaving.COMMANDS:  # kt1 user deactivate|move|holdings|handover
        units.user_group.add_command(command)
    from kt1.cli import printing

    for command in (printing.printer_group, printing.label_group, printing.receipt_group,
                    printing.print_jobs_group):
        app.cli.add_command(command)
    from kt1.cli import badges

    app.cli.add_command(badges.badge_group)
    from kt1.cli import verify as verify_cli

    for command in verify_cli.COMMANDS:  # verify, checkpoint, rules, dayoff
        app.cli.add_command(command)
    from kt1.cli import rulebook

    verify_cli.rules_group.add_command(rulebook.explain_command)  # kt1 rules explain
    from kt1.cli import reports

    app.cli.add_command(reports.report_group)
    from kt1.cli import statistics as statistics_cli  # kt1 report statistics

    reports.report_group.add_command(statistics_cli.statistics_command)
    from kt1.cli import copies

    app.cli.add_command(copies.copy_group)  # kt1 copy add|approvers|register (issue 12)
    from kt1.cli import protection as protection_cli

    app.cli.add_command(protection_cli.protection_group)  # kt1 protection due|extend|...
    # kt1 report self-inspection (kt1/cli/inspection.py)
    from kt1.cli import inspection as inspection_cli

    reports.report_group.add_command(inspection_cli.self_inspection_command)
    # kt1 worker, and kt1 db upgrade [--dry-run] that waits for workers (docs/worker.md)
    from kt1.cli import worker as worker_cli

    app.cli.add_command(worker_cli.worker_command)
    app.cli.add_command(worker_cli.db_group())
    from kt1.cli import backup as backup_cli

    for command in backup_cli.COMMANDS:  # kt1 backup, kt1 restore (docs/backup.md)
        app.cli.add_command(command)


class KT1Group(FlaskGroup):
    """Flask's group, but a configuration error is one clear line, not a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from kt1.errors import ConfigError

        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError as exc:
            click.echo(f"kt1: configuration error: {exc}", err=True)
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


@click.group(cls=KT1Group, create_app=create_app, add_version_option=False)
def cli() -> None:
    """KT1 Track: custody of secret-mail envelopes (bưu gửi KT1)."""


def main() -> None:
    import os
    import sys

    from kt1.errors import ConfigError

    if sys.argv[1:2] == ["db"]:
        # `kt1 db ...` decides itself whether to migrate (--dry-run must not): the
        # embedded SQLite database does not migrate itself first (docs/worker.md).
        os.environ["KT1_AUTO_MIGRATE"] = "0"
    try:
        cli(prog_name="kt1")
    except ConfigError as exc:  # a clear sentence, not a traceback
        click.echo(f"kt1: configuration error: {exc}", err=True)
        raise SystemExit(2) from None
