"""``kt1 unit add|list|serve`` and ``kt1 user add|list``."""

from __future__ import annotations

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.models.enums import Role, UnitKind
from kt1.services.directory import (
    add_unit,
    add_user,
    list_units,
    list_users,
    set_serving_offices,
)

#: What an agency with no serving office is told (its envelopes cannot be accepted).
NOT_SERVED = ("Chưa có bưu cục KT1 nào phục vụ đơn vị này: bưu cục sẽ không nhận bưu gửi của "
              "đơn vị")


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
    """List units; for an agency, the KT1 post offices that serve it."""
    units = list_units(ctx())
    served = {u.code: [o.code for o in u.serving_offices] for u in units
              if u.kind is UnitKind.AGENCY}
    rows = [{"code": u.code, "name": u.name, "kind": str(u.kind),
             "province_code": u.province_code, "province_name": u.province_name,
             "serving_offices": served.get(u.code)}
            for u in units]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có đơn vị nào. Thêm bằng `kt1 unit add` hoặc chạy `kt1 demo`.")
    else:
        table([[u.code, u.name, str(u.kind), u.province_code, u.province_name,
                ", ".join(served[u.code]) or "(chưa có)" if u.code in served else "-"]
               for u in units],
              ["code", "name", "kind", "prov", "province", "served by"])
        if any(not offices for offices in served.values()):
            click.echo(f"(chưa có): {NOT_SERVED}; đặt bằng `kt1 unit serve`.")


@unit_group.command("serve")
@click.argument("agency")
@click.argument("offices", nargs=-1)
@click.option("--none", "clear", is_flag=True,
              help="No post office serves the agency any more (its envelopes are refused).")
@command
def unit_serve(agency: str, offices: tuple[str, ...], clear: bool) -> None:
    """Set the KT1 post offices that serve AGENCY (they alone accept its envelopes).

    The list replaces the current one: kt1 unit serve UBND-HN BC-HN BC-HK.
    """
    if clear and offices:
        raise click.UsageError("give post offices or --none, not both")
    if not clear and not offices:
        raise click.UsageError("give at least one post office code, or --none to clear")
    unit = set_serving_offices(ctx(), None, agency, list(offices))
    if unit.serving_offices:
        click.echo(f"Đơn vị {unit.code} được phục vụ bởi: "
                   + ", ".join(o.code for o in unit.serving_offices) + ".")
    else:
        click.echo(f"Đơn vị {unit.code}: {NOT_SERVED}.")


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
@click.option("--email", default=None, help="Email address for incident notices (optional).")
@command
def user_add(username: str, full_name: str, role: str, unit_code: str, password: str,
             pin: str | None, is_head: bool, email: str | None) -> None:
    """Add a user."""
    user, badge = add_user(ctx(), None, username, full_name, role, unit_code, password, pin,
                           is_head, email=email)
    click.echo(f"Đã thêm người dùng {user.username} ({user.role}, {user.unit.code}).")
    click.echo(f"Mã thẻ (badge), chỉ hiện một lần: {badge}")


@user_group.command("list")
@click.option("--unit", "unit_code", default=None)
@click.option("--json", "as_json", is_flag=True)
@command
def user_list(unit_code: str | None, as_json: bool) -> None:
    """List users."""
    users = list_users(ctx(), unit_code)
    rows = [{"username": u.username, "full_name": u.full_name, "role": str(u.role),
             "unit": u.unit.code, "is_unit_head": u.is_unit_head, "is_active": u.is_active,
             "email": u.email}
            for u in users]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có người dùng nào.")
    else:
        table([[str(v) for v in r.values()] for r in rows],
              ["username", "name", "role", "unit", "head", "active"])
