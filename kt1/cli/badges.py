"""``kt1 badge print|reissue``: staff badges (thẻ nhân viên) through the label printers.

Only a digest of each badge code is stored, so the database cannot print a badge again:
``print`` takes the code in hand (``kt1 user add`` shows it once) and checks it;
``reissue`` makes a new code, prints it, and only then stores it, which ends the old badge.
``--output FILE.png`` writes a preview instead of printing (``print`` only: a reissued code
is stored only once a printer has taken it).
"""

from __future__ import annotations

import socket
from pathlib import Path

import click

from kt1.cli.common import command, ctx
from kt1.services import badges
from kt1.services.directory import find_user

printer_option = click.option(
    "--printer", default=None,
    help="Printer name or URI (default: the workstation's default printer).")
width_option = click.option("--width", "width_mm", type=click.Choice(["58", "80"]), default=None,
                            help="Paper width (default: the printer's).")
workstation_option = click.option(
    "--workstation", default=socket.gethostname, show_default="this host's name",
    help="The workstation whose printers to use.")


@click.group("badge")
def badge_group() -> None:
    """Staff badges: the barcode a receiver scans to sign a handoff."""


def _say(outcome: badges.BadgeOutcome) -> None:
    what = "thẻ mới" if outcome.is_new_code else "thẻ"
    click.echo(f"Đã in {what} của {outcome.username} trên máy in {outcome.printer} "
               f"({outcome.bytes_sent} byte{', máy in đã xác nhận' if outcome.confirmed else ''}).")
    if outcome.is_new_code:
        click.echo("Thẻ cũ không còn dùng được.")


@badge_group.command("print")
@click.argument("username")
@click.option("--code", prompt="Mã thẻ (do kt1 user add cấp)", hide_input=True,
              help="The badge code shown once by `kt1 user add` (asked for when left out).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG preview (203 dpi) instead of printing.")
@printer_option
@width_option
@workstation_option
@command
def badge_print(username: str, code: str, output: Path | None, printer: str | None,
                width_mm: str | None, workstation: str) -> None:
    """Print USERNAME's current badge from its code (checked against the stored digest)."""
    if output is not None:
        user = find_user(ctx(), username)
        if not badges.is_current_badge(user, code):
            raise badges.BadgeCodeInvalidError(username=user.username)
        rendered = badges.render_badge(user, code.strip().upper(), int(width_mm or 80))
        output.write_bytes(rendered.png())
        click.echo(f"Đã ghi bản xem trước thẻ của {user.username} vào {output}.")
        return
    _say(badges.print_badge(ctx(), None, username, code, printer=printer,
                            workstation=workstation,
                            width_mm=int(width_mm) if width_mm else None))


@badge_group.command("reissue")
@click.argument("username")
@printer_option
@width_option
@workstation_option
@command
def badge_reissue(username: str, printer: str | None, width_mm: str | None,
                  workstation: str) -> None:
    """Print USERNAME a badge with a new code; the old badge stops working."""
    _say(badges.reissue_badge(ctx(), None, username, printer=printer, workstation=workstation,
                              width_mm=int(width_mm) if width_mm else None))
