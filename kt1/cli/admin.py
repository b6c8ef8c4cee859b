"""``kt1 admin create``: the first administrator of a new installation, with their unit
(docs/operations.md, step 7). Everything after that is done from the web pages."""

from __future__ import annotations

import click

from kt1.cli.common import command, ctx
from kt1.errors import UnknownUnitError, ValidationError
from kt1.models.enums import Role, UnitKind
from kt1.services.directory import add_unit, add_user, check_password, find_unit


@click.group("admin")
def admin_group() -> None:
    """The installation's administrators (quản trị hệ thống)."""


@admin_group.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="The administrator's full name.")
@click.option("--unit", "unit_code", required=True,
              help="The unit they belong to; made with the --unit-* options if it is new.")
@click.option("--unit-name", default=None, help="A new unit's full name.")
@click.option("--unit-kind", type=click.Choice([k.value for k in UnitKind]), default=None)
@click.option("--province-code", default=None, help="A new unit's province code, e.g. 01.")
@click.option("--province-name", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default=None, help="Email address for notices (optional).")
@command
def admin_create(username: str, full_name: str, unit_code: str, unit_name: str | None,
                 unit_kind: str | None, province_code: str | None, province_name: str | None,
                 password: str, email: str | None) -> None:
    """Create an administrator, and their unit when it does not exist yet."""
    check_password(password)  # before the unit is made: nothing half-done
    c = ctx()
    try:
        find_unit(c, unit_code)
    except UnknownUnitError:
        missing = [flag for flag, value in (("--unit-name", unit_name),
                                            ("--unit-kind", unit_kind),
                                            ("--province-code", province_code),
                                            ("--province-name", province_name)) if not value]
        if missing:
            raise ValidationError(field="unit", reason=(
                f"unit {unit_code} does not exist: give {', '.join(missing)} to create it"
            )) from None
        unit = add_unit(c, None, unit_code, unit_name or "", unit_kind or "",
                        province_code or "", province_name or "")
        click.echo(f"Đã thêm đơn vị {unit.code} ({unit.kind}).")
    user, badge = add_user(c, None, username, full_name, Role.ADMINISTRATOR, unit_code,
                           password, email=email)
    click.echo(f"Đã tạo quản trị hệ thống {user.username} ({user.unit.code}). "
               "Đăng nhập trang web để thêm đơn vị, người dùng, thiết bị và máy in.")
    click.echo(f"Mã thẻ (badge), chỉ hiện một lần: {badge}")
