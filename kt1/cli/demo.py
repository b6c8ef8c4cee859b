"""``kt1 demo``: fill the configured database with a realistic demo network."""

from __future__ import annotations

import click

from kt1 import demo
from kt1.cli.common import command, ctx, table


@click.command("demo")
@click.option("--password", default=demo.DEFAULT_PASSWORD, show_default=True,
              help="Password given to every demo user.")
@command
def demo_command(password: str) -> None:
    """Create demo units, users and ~60 envelopes in every stage (idempotent)."""
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    click.echo("Đang tạo dữ liệu mẫu (đơn vị, người dùng, bưu gửi)...")
    result = demo.build(ctx(), password)
    if result.created:
        click.echo(f"Đã tạo {result.envelopes} bưu gửi mẫu.")
    else:
        click.echo(f"Dữ liệu mẫu đã có ({result.envelopes} bưu gửi); chỉ đặt lại mật khẩu.")
    click.echo("")
    click.echo(f"Tài khoản mẫu (mật khẩu: {result.password}, mã PIN ký nhận: {demo.DEMO_PIN}):")
    table([list(u) for u in result.users], ["username", "name", "role", "unit"])
