"""The ``kt1`` command line: Flask's CLI for this app plus the project's own commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from kt1 import create_app


def register(app: Flask) -> None:
    """Add the project's commands to ``app.cli`` (so ``kt1`` and test runners see them)."""
    from kt1.cli import demo, envelopes, units

    for command in (demo.demo_command, envelopes.envelope_group, units.unit_group,
                    units.user_group):
        app.cli.add_command(command)
    from kt1.cli import printing

    for command in (printing.printer_group, printing.label_group, printing.receipt_group,
                    printing.print_jobs_group):
        app.cli.add_command(command)


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """KT1 Track: custody of secret-mail envelopes (bưu gửi KT1)."""


def main() -> None:
    cli(prog_name="kt1")
