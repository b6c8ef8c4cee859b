"""``kt1 user deactivate|move|holdings|handover``: custody on leaving or moving (issue 11).

Run at the server console, trusted like an administrator. Deactivating, moving and changing
the role are refused while the user holds anything (``user_holds_items``); ``handover``
hands it all to a colleague, who types their PIN.
"""

from __future__ import annotations

from pathlib import Path

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.models.enums import AckMethod, Role
from kt1.services import directory, leaving
from kt1.services.access import Receipt


@click.command("deactivate")
@click.argument("username")
@command
def user_deactivate(username: str) -> None:
    """Deactivate USERNAME (refused while they hold anything)."""
    user = directory.set_user_active(ctx(), None, username, False)
    click.echo(f"Đã khóa tài khoản {user.username}; mọi phiên đăng nhập đã kết thúc.")


@click.command("move")
@click.argument("username")
@click.option("--unit", "unit_code", required=True, help="Code of the unit to move to.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="The role in the new unit (default: the same).")
@command
def user_move(username: str, unit_code: str, role: str | None) -> None:
    """Move USERNAME to another unit (chuyển công tác), refused while they hold anything."""
    user = directory.move_user(ctx(), None, username, unit_code, role)
    click.echo(f"Đã chuyển {user.username} đến {user.unit.code} ({user.role}); mọi phiên "
               "đăng nhập đã kết thúc.")


@click.command("holdings")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@command
def user_holdings(username: str, as_json: bool) -> None:
    """What USERNAME holds: envelopes, bags, open handover sheets (numbers only)."""
    held = leaving.holdings(ctx(), username)
    data = {
        "username": held.user.username,
        "envelopes": [{"number": e.number, "mark": e.mark, "status": str(e.status),
                       "bag": e.bag_id is not None} for e in held.envelopes],
        "bags": [{"number": b.number, "status": str(b.status),
                  "destination": b.destination_unit.code} for b in held.bags],
        "sheets": [{"number": s.number, "post_office": s.post_office.code}
                   for s in held.sheets],
    }
    if as_json:
        dump(data)
        return
    if held.empty:
        click.echo(f"{held.user.username} không giữ gì.")
        return
    rows = ([["bưu gửi", e.number, e.mark or "-", str(e.status)] for e in held.envelopes]
            + [["túi thư", b.number, "-", str(b.status)] for b in held.bags]
            + [["bảng kê", s.number, "-", "open"] for s in held.sheets])
    table(rows, ["item", "number", "mark", "status"])


@click.command("handover")
@click.argument("username")
@click.option("--to", "to_username", required=True, help="The colleague who takes it over.")
@click.option("--pin", prompt=True, hide_input=True, help="The receiver's PIN.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the handover record (biên bản bàn giao) PDF here.")
@command
def user_handover(username: str, to_username: str, pin: str, output: Path | None) -> None:
    """Hand everything USERNAME holds over to a colleague (bàn giao); prints the record."""
    c = ctx()
    receiver = directory.find_user(c, to_username)
    record = leaving.hand_over_all(c, None, username, to_username,
                                   Receipt(user=receiver, method=AckMethod.PIN, secret=pin))
    click.echo(record.number)
    counts = {"envelope": 0, "bag": 0, "sheet": 0}
    for item in record.items:
        counts[str(item.kind)] += 1
    click.echo(f"Đã bàn giao {counts['envelope']} bưu gửi, {counts['bag']} túi thư, "
               f"{counts['sheet']} bảng kê từ {record.giver.username} cho "
               f"{record.receiver.username}.", err=True)
    if output is not None:
        from kt1.web.leaving_paper import handover_record_pdf

        output.write_bytes(handover_record_pdf(record, c.now()))
        click.echo(f"Biên bản: {output}", err=True)


#: Added to ``kt1 user`` by :func:`kt1.cli.register`.
COMMANDS = (user_deactivate, user_move, user_holdings, user_handover)
