"""``kt1 protection``: protection terms and the end of a secret's life (docs/domain.md §8;
docs/rules.md, rules P4 to P7).

``due`` lists the documents whose term ends within a horizon; ``extend``, ``declassify``
and ``destroy`` record a decision for USER, a registry clerk (or the head) of the unit
holding the document; ``rules`` lists the dated terms. Run at the server console.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.errors import ValidationError
from kt1.models import Envelope, ProtectionDecision
from kt1.services import protection
from kt1.services.directory import find_user


def months(value: str) -> int:
    """``6m``, ``6`` (months) or ``2y`` (years) as a number of months."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*([my]?)\s*", value or "", re.IGNORECASE)
    if m is None:
        raise ValidationError(field="within", reason="write it as 6m or 2y")
    n = int(m.group(1))
    return n * 12 if m.group(2).lower() == "y" else n


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field=field, reason="a date YYYY-MM-DD") from None


def due_row(e: Envelope) -> dict[str, Any]:
    return {"number": e.number, "holder_unit": e.holder_unit.code,
            "classification": str(e.classification), "document_number": e.document_number,
            "classified_on": e.classified_on.isoformat() if e.classified_on else None,
            "protection_until": e.protection_until.isoformat() if e.protection_until else None,
            "secrecy": str(e.secrecy), "status": str(e.status)}


def decision_row(d: ProtectionDecision) -> dict[str, Any]:
    return {"kind": str(d.kind), "decision_number": d.decision_number,
            "decided_on": d.decided_on.isoformat(), "decided_by": d.decided_by,
            "decided_by_title": d.decided_by_title,
            "previous_until": d.previous_until.isoformat() if d.previous_until else None,
            "new_until": d.new_until.isoformat() if d.new_until else None,
            "partial": d.partial, "scope_note": d.scope_note,
            "council_members": d.council_members.splitlines() if d.council_members else [],
            "record_number": d.record_number}


@click.group("protection")
def protection_group() -> None:
    """Protection terms (thời hạn bảo vệ): due list, extension, declassification, destruction."""


@protection_group.command("due")
@click.option("--within", default=None, help="Horizon: 6m, 12m, 2y (default the setting "
                                             "KT1_PROTECTION_REVIEW_MONTHS).")
@click.option("--unit", "unit_code", default=None, help="Only the documents this unit holds.")
@click.option("--json", "as_json", is_flag=True)
@command
def due_command(within: str | None, unit_code: str | None, as_json: bool) -> None:
    """Documents whose protection term ends within the horizon (or has ended), soonest first."""
    c = ctx()
    unit = protection.unit_by_code(c, unit_code) if unit_code else None
    found = protection.due_in_unit(c, unit.id if unit else None,
                                   within_months=months(within) if within else None)
    rows = [due_row(e) for e in found]
    if as_json:
        dump(rows)
        return
    if not rows:
        click.echo("Không có tài liệu nào sắp hết thời hạn bảo vệ.")
        return
    table([[r["number"], r["holder_unit"], r["classification"], r["document_number"],
            r["classified_on"] or "-", r["protection_until"] or "-", r["secrecy"]]
           for r in rows],
          ["Số hiệu", "Đơn vị", "Độ mật", "Số văn bản", "Xác định độ mật", "Hết hạn",
           "Tình trạng"])


def _decision_options(fn: Any) -> Any:
    for option in reversed([
            click.option("--user", "username", required=True,
                         help="The registry clerk (or head) of the unit holding it."),
            click.option("--decision", "decision_number", required=True,
                         help="The decision's number (số quyết định)."),
            click.option("--decided-by", "decided_by", required=True,
                         help="Who decided (người có thẩm quyền)."),
            click.option("--title", "decided_by_title", default="", help="Their title."),
            click.option("--decided-on", "decided_on", default=None,
                         help="The decision's date, YYYY-MM-DD (default today)."),
            click.option("--json", "as_json", is_flag=True)]):
        fn = option(fn)
    return fn


def _done(found: ProtectionDecision, number: str, as_json: bool, message: str) -> None:
    if as_json:
        dump({"number": number, **decision_row(found)})
    else:
        click.echo(message)


@protection_group.command("extend")
@click.argument("number")
@_decision_options
@click.option("--until", "until", required=True, help="The new end, YYYY-MM-DD.")
@command
def extend_command(number: str, username: str, decision_number: str, decided_by: str,
                   decided_by_title: str, decided_on: str | None, as_json: bool,
                   until: str) -> None:
    """Extend NUMBER's protection term (gia hạn) to --until."""
    c = ctx()
    new_until = _day(until, "until")
    assert new_until is not None  # noqa: S101  (required)
    found = protection.extend(c, find_user(c, username), number,
                              decision_number=decision_number, decided_by=decided_by,
                              decided_by_title=decided_by_title,
                              decided_on=_day(decided_on, "decided_on"), new_until=new_until)
    _done(found, number.upper(), as_json,
          f"Đã gia hạn thời hạn bảo vệ {number.upper()} đến {new_until:%d/%m/%Y}.")


@protection_group.command("declassify")
@click.argument("number")
@_decision_options
@click.option("--partial", is_flag=True, help="Declassify in part (giải mật một phần).")
@click.option("--scope", "scope_note", default="", help="Which parts (with --partial).")
@command
def declassify_command(number: str, username: str, decision_number: str, decided_by: str,
                       decided_by_title: str, decided_on: str | None, as_json: bool,
                       partial: bool, scope_note: str) -> None:
    """Declassify NUMBER (giải mật), fully or with --partial."""
    c = ctx()
    found = protection.declassify(c, find_user(c, username), number,
                                  decision_number=decision_number, decided_by=decided_by,
                                  decided_by_title=decided_by_title,
                                  decided_on=_day(decided_on, "decided_on"), partial=partial,
                                  scope_note=scope_note)
    _done(found, number.upper(), as_json,
          f"Đã giải mật {'một phần ' if partial else ''}{number.upper()}.")


@protection_group.command("destroy")
@click.argument("number")
@_decision_options
@click.option("--council", required=True,
              help='The council\'s members: "Name A; Name B; Name C".')
@click.option("--record", "record_number", required=True,
              help="The destruction record's number (số biên bản tiêu hủy).")
@click.option("--on", "destroyed_on", default=None, help="Destroyed on, YYYY-MM-DD.")
@command
def destroy_command(number: str, username: str, decision_number: str, decided_by: str,
                    decided_by_title: str, decided_on: str | None, as_json: bool,
                    council: str, record_number: str, destroyed_on: str | None) -> None:
    """Destroy NUMBER (tiêu hủy) after a decision, by a council, with a record."""
    c = ctx()
    found = protection.destroy(c, find_user(c, username), number,
                               decision_number=decision_number, decided_by=decided_by,
                               decided_by_title=decided_by_title,
                               decided_on=_day(decided_on, "decided_on"),
                               council_members=council, record_number=record_number,
                               destroyed_on=_day(destroyed_on, "on"))
    _done(found, number.upper(), as_json,
          f"Đã ghi tiêu hủy {number.upper()} (biên bản {found.record_number}).")


@protection_group.command("rules")
@click.option("--json", "as_json", is_flag=True)
@command
def rules_command(as_json: bool) -> None:
    """The dated protection terms (docs/domain.md §8), one row per classification and date."""
    rows: list[dict[str, Any]] = [{"effective_from": r.effective_from.isoformat(),
                                   "classification": str(r.classification),
                                   "years": r.years, "source": r.source}
                                   for r in protection.rules_table(ctx().session)]
    if as_json:
        dump(rows)
        return
    table([[r["effective_from"], r["classification"], str(r["years"]), r["source"]]
           for r in rows], ["Từ ngày", "Độ mật", "Số năm", "Căn cứ"])


COMMANDS = (protection_group,)
