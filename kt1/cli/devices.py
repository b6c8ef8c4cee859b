"""``kt1 device add|revoke|list``: scanner devices and their tokens."""

from __future__ import annotations

import click
from sqlalchemy import select

from kt1.cli.common import command, ctx, dump, iso, table
from kt1.models import Device
from kt1.services.devices import add_device, revoke_device


@click.group("device")
def device_group() -> None:
    """Scanner devices (thiết bị quét) bound to a unit."""


@device_group.command("add")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="The unit the device works for.")
@command
def device_add(name: str, unit_code: str) -> None:
    """Issue a device token; it is printed once and only its hash is kept."""
    device, token = add_device(ctx(), None, name, unit_code)
    click.echo(f"Đã cấp thiết bị {device.name} cho đơn vị {device.unit.code}.")
    click.echo("Mã truy cập (chỉ hiện một lần, nhập vào máy quét):")
    click.echo(token)


@device_group.command("revoke")
@click.argument("name")
@command
def device_revoke(name: str) -> None:
    """Revoke a device's token at once."""
    device = revoke_device(ctx(), None, name)
    click.echo(f"Đã thu hồi thiết bị {device.name}.")


@device_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@command
def device_list(as_json: bool) -> None:
    """List devices."""
    devices = ctx().session.execute(select(Device).order_by(Device.name)).scalars().all()
    rows = [{"name": d.name, "unit": d.unit.code, "created_at": iso(d.created_at),
             "revoked_at": iso(d.revoked_at)} for d in devices]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có thiết bị nào. Cấp bằng `kt1 device add NAME --unit CODE`.")
    else:
        table([[str(r["name"]), str(r["unit"]), str(r["created_at"] or ""),
                str(r["revoked_at"] or "-")] for r in rows], ["name", "unit", "created", "revoked"])
