"""``kt1 unit add|list`` and ``kt1 user add|list``."""

from __future__ import annotations

import click
from sqlalchemy import select

from kt1.cli.common import command, ctx, dump, table
from kt1.models import Unit, User
from kt1.models.enums import Role, UnitKind
from kt1.services.directory import add_unit, add_user


@click.group("unit")
def unit_group() -> None:
    """Units: agencies (cơ quan) and KT1 post offices (bưu cục)."""


@unit_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name, e.g. 'UBND thành phố Hà Nội'.")
@click.option("--kind", type=click.Choice([k.value for k in UnitKind]), required=True)
@click.option("--province-code", required=True, help="Province code, e.g. 01 (Hà Nội).")
@click.option("--province-name", required=True)
@click.option("--address", default="")
@click.option("--parent", "parent_name", default="", help="Parent body, for register covers.")
@command
def unit_add(code: str, name: str, kind: str, province_code: str, province_name: str,
             address: str, parent_name: str) -> None:
    """Add a unit."""
    unit = add_unit(ctx(), None, code, name, kind, province_code, province_name, address,
                    parent_name)
    click.echo(f"Đã thêm đơn vị {unit.code} ({unit.kind}).")


@unit_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@command
def unit_list(as_json: bool) -> None:
    """List units."""
    units = ctx().session.execute(select(Unit).order_by(Unit.code)).scalars().all()
    rows = [{"code": u.code, "name": u.name, "kind": str(u.kind),
             "province_code": u.province_code, "province_name": u.province_name}
            for u in units]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có đơn vị nào. Thêm bằng `kt1 unit add` hoặc chạy `kt1 demo`.")
    else:
        table([[str(v) for v in r.values()] for r in rows],
              ["code", "name", "kind", "prov", "province"])


@click.group("user")
def user_group() -> None:
    """Users: one role in one unit each."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--pin", default=None, help="4-8 digit PIN for acknowledging handoffs.")
@click.option("--head", "is_head", is_flag=True, help="Head of the unit (thủ trưởng).")
@command
def user_add(username: str, full_name: str, role: str, unit_code: str, password: str,
             pin: str | None, is_head: bool) -> None:
    """Add a user."""
    user, badge = add_user(ctx(), None, username, full_name, role, unit_code, password, pin,
                           is_head)
    click.echo(f"Đã thêm người dùng {user.username} ({user.role}, {user.unit.code}).")
    click.echo(f"Mã thẻ (badge), chỉ hiện một lần: {badge}")


@user_group.command("list")
@click.option("--unit", "unit_code", default=None)
@click.option("--json", "as_json", is_flag=True)
@command
def user_list(unit_code: str | None, as_json: bool) -> None:
    """List users."""
    stmt = select(User).join(User.unit).order_by(Unit.code, User.username)
    if unit_code:
        stmt = stmt.where(Unit.code == unit_code.upper())
    users = ctx().session.execute(stmt).unique().scalars().all()
    rows = [{"username": u.username, "full_name": u.full_name, "role": str(u.role),
             "unit": u.unit.code, "is_unit_head": u.is_unit_head, "is_active": u.is_active}
            for u in users]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có người dùng nào.")
    else:
        table([[str(v) for v in r.values()] for r in rows],
              ["username", "name", "role", "unit", "head", "active"])
