"""``kt1 copy add|approvers|register``: copies as tracked items (sao, chụp; issue 12).

Run at the server console. ``add`` records copies made by a registry clerk (``--user``) of
the unit that holds the original, with the approval of a person entitled to allow copies
there (``--approved-by``); each copy is an envelope of its own, "Bản số n/N". ``approvers``
lists, adds or removes who may allow copies in a unit (none listed: its heads of unit).
``register`` prints the unit's copy register (sổ quản lý sao, chụp).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.models import Envelope
from kt1.models.enums import CopyMethod
from kt1.services import copies
from kt1.services.directory import find_user


@click.group("copy")
def copy_group() -> None:
    """Copies of secret documents (sao, chụp): make, approvers, register."""


def copy_summary(c: Envelope) -> dict[str, Any]:
    """A copy as the command line and the API show it (never the subject)."""
    return {"number": c.number, "copy_no": c.copy_no, "copy_total": c.copy_total,
            "copy_label": c.copy_label, "register_no": copies.register_number(c),
            "method": str(c.copy_method) if c.copy_method else None,
            "approved_on": c.copy_approved_on.isoformat() if c.copy_approved_on else None,
            "recipient": c.recipient_unit.code, "status": str(c.status)}


@copy_group.command("add")
@click.argument("number")
@click.option("--approved-by", "approved_by", required=True,
              help="Username of the person who allowed the copies.")
@click.option("--user", "username", required=True,
              help="The registry clerk who registers the copies.")
@click.option("--count", type=int, default=1, show_default=True, help="How many copies (1-99).")
@click.option("--method", type=click.Choice([m.value for m in CopyMethod]),
              default=CopyMethod.PHOTOCOPY.value, show_default=True)
@click.option("--to", "to_unit", default=None,
              help="Recipient unit code (default: the original's recipient when this unit "
                   "sent it, else this unit).")
@click.option("--recipient-name", default="", help="Named recipient in that unit.")
@click.option("--copy-no", "copy_no", type=int, default=None,
              help="Register a copy already numbered on paper (Bản số N).")
@click.option("--approved-on", "approved_on", type=click.DateTime(["%Y-%m-%d"]),
              default=None, help="Approval date (default: today).")
@click.option("--scan-id", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the copy stamps (BẢN SAO) as a PDF here.")
@command
def copy_add(number: str, approved_by: str, username: str, count: int, method: str,
             to_unit: str | None, recipient_name: str, copy_no: int | None,
             approved_on: Any, scan_id: str | None, as_json: bool,
             output: Path | None) -> None:
    """Register copies of NUMBER, each an envelope of its own ("Bản số n/N")."""
    c = ctx()
    actor = find_user(c, username)
    made = copies.make_copies(
        c, actor, number, approved_by=approved_by,
        approved_on=approved_on.date() if approved_on else None, count=count, method=method,
        recipient_unit_code=to_unit, recipient_name=recipient_name, copy_no=copy_no,
        scan_id=scan_id)
    if output is not None:
        from kt1.web.copies_paper import copy_stamps_pdf, stamps_for

        output.write_bytes(copy_stamps_pdf(stamps_for(c.session, made), c.now()))
        click.echo(f"Dấu bản sao: {output}", err=True)
    if as_json:
        dump({"original": number.strip().upper(), "copies": [copy_summary(e) for e in made]})
        return
    for e in made:
        click.echo(f"{e.number}  {e.copy_label}  (số sao {copies.register_number(e)})")


@copy_group.command("approvers")
@click.option("--unit", "unit_code", required=True)
@click.option("--add", "add", default=None, help="Username to entitle.")
@click.option("--remove", "remove", default=None, help="Username to remove.")
@click.option("--json", "as_json", is_flag=True)
@command
def copy_approvers(unit_code: str, add: str | None, remove: str | None,
                   as_json: bool) -> None:
    """Who may allow copies in a unit (none listed: its heads of unit)."""
    c = ctx()
    if add:
        copies.add_approver(c, None, unit_code, add)
    if remove:
        copies.remove_approver(c, None, unit_code, remove)
    unit = copies.find_unit(c, unit_code)
    listed = bool(copies.approver_rows(c, unit.id))
    people = copies.entitled_approvers(c, unit.id)
    if as_json:
        dump({"unit": unit.code, "source": "listed" if listed else "heads_of_unit",
              "approvers": [{"username": u.username, "full_name": u.full_name}
                            for u in people]})
        return
    click.echo(f"{unit.code}: " + ("người được giao cho phép sao, chụp" if listed
                                   else "chưa giao ai: thủ trưởng đơn vị cho phép sao, chụp"))
    table([[u.username, u.full_name] for u in people], ["username", "full name"])


@copy_group.command("register")
@click.option("--unit", "unit_code", required=True)
@click.option("--year", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the register as a PDF here.")
@command
def copy_register(unit_code: str, year: int | None, as_json: bool,
                  output: Path | None) -> None:
    """The unit's copy register (sổ quản lý sao, chụp)."""
    c = ctx()
    unit, lines = copies.copy_register(c, None, unit_code, year)
    if output is not None:
        from kt1.web.copies_paper import copy_register_pdf

        output.write_bytes(copy_register_pdf(unit, lines, "console", c.now()))
        click.echo(f"Sổ quản lý sao, chụp: {output}", err=True)
    rows = [{
        **copy_summary(ln.envelope), "original": ln.original.number if ln.original else None,
        "document_number": ln.envelope.document_number,
        "classification": str(ln.envelope.classification),
        "approved_by": ln.approver.username if ln.approver else None,
        "made_by": ln.made_by.username if ln.made_by else None,
        "made_on": ln.envelope.registered_at.date().isoformat()} for ln in lines]
    if as_json:
        dump({"unit": unit.code, "copies": rows})
        return
    table([[r["register_no"], r["made_on"], r["original"] or "?", r["document_number"],
            r["classification"], r["copy_label"], r["approved_by"] or "-", r["method"],
            r["made_by"] or "-", r["recipient"], r["number"], r["status"]] for r in rows],
          ["no", "date", "original", "document", "class", "copy", "approved by", "method",
           "made by", "to", "number", "status"])

