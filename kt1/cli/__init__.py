"""The ``kt1`` command line: Flask's CLI for this app plus the project's own commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from kt1 import create_app


def _register(group: click.Group) -> None:
    from kt1.cli import demo, envelopes, units

    group.add_command(demo.demo_command)
    group.add_command(envelopes.envelope_group)
    group.add_command(units.unit_group)
    group.add_command(units.user_group)


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """KT1 Track: custody of secret-mail envelopes (bưu gửi KT1)."""


_register(cli)


def main() -> None:
    cli(prog_name="kt1")
