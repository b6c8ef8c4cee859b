"""Self-inspection (tự kiểm tra, docs/domain.md §8): a unit runs the inspection checklist
against its own data for a period, signs the report, and fixes what it found.

**The checklist** (:data:`CHECKLIST`), one entry per code, each with the count and the
numbers concerned (envelope numbers; sheet numbers; incident ids):

- ``handover_unsigned``: handover sheets (bảng kê giao) and internal handover sheets
  (phiếu chuyển giao nội bộ) of the unit, printed but still not signed;
- ``wrong_letter``: envelopes the unit sent whose outer letter does not match the
  classification (verify finding ``mark_mismatch``);
- ``copy_unapproved``: copies without a recorded approval (finding ``copy_unapproved``);
- ``protection_term_missing``: documents with no protection term (finding of that code);
- ``held_by_leaver``: items the unit holds that are still with a deactivated account
  (finding ``held_by_inactive_user``);
- ``delivery_overdue``: deliveries (and recalls) still running late (findings
  ``deadline_missed`` and ``recall_overdue`` of severity ``overdue``);
- ``arrival_unregistered``: envelopes addressed to the unit passed on before, or still not
  entered in, the incoming register (findings ``arrival_unregistered`` and
  ``arrival_registration_late`` of severity ``overdue``);
- ``incident_open``: incidents the unit is involved in (kt1/services/incidents.py) still open;
- ``incident_unacknowledged``: incidents the unit is involved in that nobody acknowledged
  ("đã nắm") within their time (rule T2: the same limit as the verifier's
  ``incident_unacknowledged``, counted per incident rather than per envelope).

**Scope.** The unit's envelopes are those it sent, that are addressed to it or that it holds;
an envelope is in a report when a handoff of it was recorded in the period, or the unit holds
it now. Sheets and incidents are in it when made (opened) on or before the period's last day
and still unsigned (open, unacknowledged) when the report runs. The verifier
(:func:`kt1.services.verify.verify`) judges the envelopes; its findings are grouped by
:data:`CHECKLIST`'s mapping of finding codes.

**Re-running.** Each item keeps the numbers in the unit's previous report and not in this one
(fixed since) and the reverse (new). When an item has a count above zero and no open
remediation, one is opened; a remediation is closed when it is marked done, or by the first
later report that finds its item clear; a closed remediation whose item comes back later
gets a new one.

**Access** (docs/access.md): the heads of the unit (``is_unit_head``) and its security
officers read, run and edit remediations; only a head signs. Another unit's report, unit or
remediation answers exactly as one that does not exist. A signed report never changes; its
remediations go on being tracked after the signature. The server console (the CLI, actor
``None``) runs and reads any unit's report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, union

from kt1.errors import (
    ForbiddenError,
    PeriodReversedError,
    RemediationClosedError,
    SelfInspectionAlteredError,
    SelfInspectionSignedError,
    SelfInspectionSignerError,
    UnknownRemediationError,
    UnknownSelfInspectionError,
    UnknownUnitError,
    UnknownUserError,
    ValidationError,
)
from kt1.models import (
    Envelope,
    Handoff,
    HandoverSheet,
    Incident,
    InternalSheet,
    Remediation,
    SelfInspection,
    SelfInspectionItem,
    SheetPrint,
    Unit,
    User,
)
from kt1.models.enums import IncidentStatus, Role
from kt1.models.handover import SheetStatus
from kt1.services.context import Ctx
from kt1.services.deadlines import SECONDS_PER_DAY, load_calendar
from kt1.services.identifiers import next_value
from kt1.services.incidents import _involved_incidents
from kt1.services.subjects import VIETNAM, local_date
from kt1.services.text import clean_text
from kt1.services.tx import transactional
from kt1.services.verify import OVERDUE, verify
from kt1.services.verify.run import since_moment

ENVELOPE, SHEET, INCIDENT = "envelope", "sheet", "incident"
#: Which of the unit's envelopes a check concerns.
ANY, SENT, RECEIVED, HELD = "any", "sent", "received", "held"


@dataclass(frozen=True)
class Check:
    """One item of the checklist: its code, what it lists, its words (vi, en), and for an
    envelope check the verify finding codes it groups (code -> the severity it takes, None
    for any) and which of the unit's envelopes it concerns."""

    code: str
    kind: str
    vi: str
    en: str
    findings: dict[str, str | None] = field(default_factory=dict)
    scope: str = ANY


CHECKLIST: tuple[Check, ...] = (
    Check("handover_unsigned", SHEET,
          "Bảng kê giao, phiếu chuyển giao nội bộ đã in nhưng chưa ký nhận",
          "Handover sheets and internal handover sheets printed but not signed"),
    Check("wrong_letter", ENVELOPE,
          "Bưu gửi ghi sai dấu chữ độ mật (A, B, C) ngoài bì",
          "Envelopes with a wrong classification letter outside",
          {"mark_mismatch": None}, SENT),
    Check("copy_unapproved", ENVELOPE,
          "Bản sao, chụp không có phê duyệt của người có thẩm quyền",
          "Copies made without the approval of the person entitled to allow them",
          {"copy_unapproved": None}),
    Check("protection_term_missing", ENVELOPE,
          "Tài liệu chưa xác định thời hạn bảo vệ",
          "Documents without a protection term",
          {"protection_term_missing": None}),
    Check("held_by_leaver", ENVELOPE,
          "Tài liệu còn do người đã thôi việc, chuyển công tác (tài khoản đã khóa) giữ",
          "Items still held by people who left (deactivated accounts)",
          {"held_by_inactive_user": None}, HELD),
    Check("delivery_overdue", ENVELOPE,
          "Bưu gửi quá chỉ tiêu thời gian chưa phát, tài liệu thu hồi quá hạn",
          "Deliveries past their time limit, recalls past their date",
          {"deadline_missed": OVERDUE, "recall_overdue": OVERDUE}),
    Check("arrival_unregistered", ENVELOPE,
          "Bưu gửi đến chưa vào Sổ đăng ký BMNN đến",
          "Arrivals not entered in the incoming register",
          {"arrival_unregistered": None, "arrival_registration_late": OVERDUE}, RECEIVED),
    Check("incident_open", INCIDENT,
          "Sự cố chưa giải quyết xong",
          "Incidents still open"),
    Check("incident_unacknowledged", INCIDENT,
          "Sự cố quá hạn chưa được thủ trưởng, cán bộ bảo mật xác nhận đã nắm",
          "Incidents not acknowledged by a head of unit or security officer in time"),
)
CHECKS = {c.code: c for c in CHECKLIST}


# --------------------------------------------------------------------------- access


def may_read(user: User, unit_id: int) -> bool:
    """A head of the unit or one of its security officers, active."""
    return (user.is_active and user.unit_id == unit_id
            and (user.is_unit_head or user.role is Role.SECURITY_OFFICER))


def may_sign(user: User, unit_id: int) -> bool:
    return user.is_active and user.unit_id == unit_id and user.is_unit_head


def is_inspector(user: User) -> bool:
    """Does this user have self-inspection pages at all (their own unit's)?"""
    return may_read(user, user.unit_id)


def _unit_for(ctx: Ctx, actor: User | None, code: str | None) -> Unit:
    """The unit ``code`` (the actor's own by default); another unit answers like an unknown
    code, a person of the unit without the right gets ``forbidden``."""
    raw = clean_text(code, "unit", 32) if code else None
    unit: Unit | None
    if raw is None:
        if actor is None:
            raise ValidationError(field="unit", reason="required")
        unit = ctx.session.get_one(Unit, actor.unit_id)
    else:
        unit = ctx.session.execute(
            select(Unit).where(Unit.code == raw.upper())).scalar_one_or_none()
        if unit is None or (actor is not None and actor.unit_id != unit.id):
            raise UnknownUnitError(code=raw)
    if actor is not None and not may_read(actor, unit.id):
        raise ForbiddenError()
    return unit


def get_report(ctx: Ctx, actor: User | None, number: str) -> SelfInspection:
    """The report ``number``; another unit's answers like one never issued."""
    code = clean_text(number, "number", 48, required=True).upper()
    report = ctx.session.execute(
        select(SelfInspection).where(SelfInspection.number == code)).unique().scalar_one_or_none()
    if report is None or (actor is not None and actor.unit_id != report.unit_id):
        raise UnknownSelfInspectionError(number=code)
    if actor is not None and not may_read(actor, report.unit_id):
        raise ForbiddenError()
    return report


def reports_of(ctx: Ctx, actor: User | None, unit_code: str | None = None,
               limit: int = 100) -> list[SelfInspection]:
    """The unit's reports, newest first."""
    unit = _unit_for(ctx, actor, unit_code)
    return list(ctx.session.execute(
        select(SelfInspection).where(SelfInspection.unit_id == unit.id)
        .order_by(SelfInspection.id.desc()).limit(limit)).unique().scalars())


# --------------------------------------------------------------------------- the checklist


@dataclass
class Found:
    """What one check found: the numbers concerned."""

    check: Check
    numbers: list[str]


def _day_end(day: date) -> datetime:
    """Midnight after ``day`` in Vietnam, in UTC (the end of the period, exclusive)."""
    return since_moment(day + timedelta(days=1))


def _unit_envelopes(ctx: Ctx, unit_id: int, start: date, end: date
                    ) -> dict[str, tuple[int, int, int]]:
    """The unit's envelopes in the period: number -> (sender, recipient, holder unit)."""
    active = select(Handoff.envelope_id).where(
        Handoff.recorded_at >= since_moment(start), Handoff.recorded_at < _day_end(end))
    rows = ctx.session.execute(
        select(Envelope.number, Envelope.sender_unit_id, Envelope.recipient_unit_id,
               Envelope.holder_unit_id)
        .where(or_(Envelope.sender_unit_id == unit_id, Envelope.recipient_unit_id == unit_id,
                   Envelope.holder_unit_id == unit_id))
        .where(or_(Envelope.holder_unit_id == unit_id, Envelope.id.in_(active)))
        .order_by(Envelope.id))
    return {number: (s, r, h) for number, s, r, h in rows}


def _in_scope(scope: str, unit_id: int, facts: tuple[int, int, int]) -> bool:
    sender, recipient, holder = facts
    return {ANY: True, SENT: sender == unit_id, RECEIVED: recipient == unit_id,
            HELD: holder == unit_id}[scope]


def _envelope_checks(ctx: Ctx, unit_id: int, start: date, end: date, now: datetime
                     ) -> dict[str, list[str]]:
    """Run the verifier over the unit's envelopes and group its findings by check.

    The verifier reads in a snapshot of its own and ends the session's transaction."""
    envelopes = _unit_envelopes(ctx, unit_id, start, end)
    found: dict[str, list[str]] = {c.code: [] for c in CHECKLIST if c.kind == ENVELOPE}
    if not envelopes:
        return found
    by_finding: dict[str, list[Check]] = {}
    for check in CHECKLIST:
        for code in check.findings:
            by_finding.setdefault(code, []).append(check)
    for report in verify(ctx, list(envelopes), now=now):
        facts = envelopes[report.number]
        for finding in report.findings:
            for check in by_finding.get(finding.code, ()):
                wanted = check.findings[finding.code]
                if wanted is not None and finding.severity != wanted:
                    continue
                if not _in_scope(check.scope, unit_id, facts):
                    continue
                if report.number not in found[check.code]:
                    found[check.code].append(report.number)
    return found


def _unsigned_sheets(ctx: Ctx, unit_id: int, end: date) -> list[str]:
    until = _day_end(end)
    post = ctx.session.execute(
        select(HandoverSheet.number).where(
            HandoverSheet.unit_id == unit_id, HandoverSheet.status == SheetStatus.OPEN,
            HandoverSheet.created_at < until,
            exists().where(SheetPrint.handover_sheet_id == HandoverSheet.id))
        .order_by(HandoverSheet.id)).scalars()
    internal = ctx.session.execute(
        select(InternalSheet.number).where(
            InternalSheet.unit_id == unit_id, InternalSheet.status == SheetStatus.OPEN,
            InternalSheet.created_at < until,
            exists().where(SheetPrint.internal_sheet_id == InternalSheet.id))
        .order_by(InternalSheet.id)).scalars()
    return [*post, *internal]


def _incidents(ctx: Ctx, unit_id: int, end: date, now: datetime
               ) -> tuple[list[str], list[str]]:
    """The unit's incidents opened by the period's end: still open; unacknowledged after
    their time (``KT1_INCIDENT_ACK_WORKING_DAYS`` working days, rule T2)."""
    involved = union(*_involved_incidents(unit_id)).subquery()
    rows = ctx.session.execute(
        select(Incident.id, Incident.status, Incident.opened_at, Incident.acknowledged_at)
        .where(Incident.id.in_(select(involved.c[0])), Incident.opened_at < _day_end(end))
        .order_by(Incident.id)).all()
    calendar = load_calendar(ctx)
    ack_seconds = ctx.settings.incident_ack_working_days * SECONDS_PER_DAY
    still_open = [str(r.id) for r in rows if r.status == IncidentStatus.OPEN]
    late = [str(r.id) for r in rows if r.acknowledged_at is None and now.timestamp()
            > calendar.add_working_seconds(r.opened_at.timestamp(), ack_seconds)]
    return still_open, late


def run_checklist(ctx: Ctx, unit_id: int, start: date, end: date, now: datetime
                  ) -> list[Found]:
    """What each check finds for the unit in the period, in checklist order (reads only)."""
    by_code = _envelope_checks(ctx, unit_id, start, end, now)
    by_code["handover_unsigned"] = _unsigned_sheets(ctx, unit_id, end)
    by_code["incident_open"], by_code["incident_unacknowledged"] = _incidents(
        ctx, unit_id, end, now)
    return [Found(check, by_code.get(check.code, [])) for check in CHECKLIST]


# --------------------------------------------------------------------------- running


def _period(now: datetime, start: date | None, end: date | None) -> tuple[date, date]:
    """The period: by default from 1 January of the last day's year to today (Vietnam)."""
    end = end or local_date(now)
    start = start or date(end.year, 1, 1)
    if end < start:
        raise PeriodReversedError(start=start.strftime("%d/%m/%Y"),
                                  end=end.strftime("%d/%m/%Y"))
    return start, end


def content_digest(report: SelfInspection, items: Iterable[SelfInspectionItem]) -> str:
    """SHA-256 of what the report says: number, unit, period, run time and every item."""
    body = {
        "number": report.number, "unit": report.unit_id,
        "period": [report.period_from.isoformat(), report.period_to.isoformat()],
        "run_at": report.run_at.replace(microsecond=0).isoformat(),
        "items": [{"code": i.code, "count": i.count, "numbers": list(i.numbers),
                   "fixed": i.fixed, "new": i.new} for i in items],
    }
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def run_self_inspection(ctx: Ctx, actor: User | None, unit_code: str | None,
                        start: date | None = None, end: date | None = None
                        ) -> SelfInspection:
    """Run the checklist for the unit and period and store the report (see the module).

    Refused, with nothing written: a reversed period (``period_reversed``), a unit that
    does not exist or is another unit's (``unknown_unit``), a person of the unit who is
    neither a head nor a security officer (``forbidden``)."""
    unit = _unit_for(ctx, actor, unit_code)
    now = ctx.now().replace(microsecond=0)  # one instant: the period's end and the number's year
    start, end = _period(now, start, end)
    found = run_checklist(ctx, unit.id, start, end, now)  # ends the read transaction
    return _store(ctx, actor, unit.id, start, end, now, found)


@transactional
def _store(ctx: Ctx, actor: User | None, unit_id: int, start: date, end: date,
           now: datetime, found: Sequence[Found]) -> SelfInspection:
    unit = ctx.session.get_one(Unit, unit_id)
    previous = ctx.session.execute(
        select(SelfInspection).where(SelfInspection.unit_id == unit_id)
        .order_by(SelfInspection.id.desc()).limit(1)).unique().scalar_one_or_none()
    before: dict[str, list[str]] = {}
    if previous is not None:
        before = {i.code: list(i.numbers) for i in previous.items}
    year = local_date(now).year
    seq = next_value(ctx.session, f"self-inspection:{unit_id}:{year}")
    report = SelfInspection(
        number=f"TKT-{unit.code}-{year}-{seq:03d}", unit_id=unit_id, year=year, seq=seq,
        period_from=start, period_to=end, run_at=now,
        run_by_id=actor.id if actor is not None else None,
        previous_id=previous.id if previous is not None else None, digest="")
    ctx.session.add(report)
    ctx.session.flush()
    items = []
    for position, f in enumerate(found, start=1):
        fixed = new = None
        if previous is not None:
            old = before.get(f.check.code, [])
            fixed = [n for n in old if n not in f.numbers]
            new = [n for n in f.numbers if n not in old]
        item = SelfInspectionItem(inspection_id=report.id, position=position,
                                  code=f.check.code, count=len(f.numbers),
                                  numbers=list(f.numbers), fixed=fixed, new=new)
        ctx.session.add(item)
        items.append(item)
    report.digest = content_digest(report, items)
    today = local_date(now)
    for f in found:
        current = _open_remediation(ctx, unit_id, f.check.code)
        if f.numbers and current is None:
            ctx.session.add(Remediation(unit_id=unit_id, code=f.check.code,
                                        opened_in_id=report.id, note=""))
        elif not f.numbers and current is not None:
            current.closed_in_id = report.id
            current.done_on = current.done_on or today
            current.updated_at = now
    ctx.session.flush()
    ctx.session.expire(report, ["items"])
    return report


def _open_remediation(ctx: Ctx, unit_id: int, code: str) -> Remediation | None:
    return ctx.session.execute(
        select(Remediation).where(Remediation.unit_id == unit_id, Remediation.code == code,
                                  Remediation.closed_in_id.is_(None))
        .order_by(Remediation.id.desc()).limit(1)).unique().scalar_one_or_none()


# --------------------------------------------------------------------------- signing


@transactional
def sign_report(ctx: Ctx, actor: User, number: str, title: str | None = None
                ) -> SelfInspection:
    """The head of the unit signs the report (who, when, name and title); afterwards its
    items never change. Refused: another unit's report (``unknown_self_inspection``), anyone
    but a head (``self_inspection_signer``), a second signature (``self_inspection_signed``),
    a report whose content no longer matches its digest (``self_inspection_altered``)."""
    report = get_report(ctx, actor, number)
    if not may_sign(actor, report.unit_id):
        raise SelfInspectionSignerError()
    if report.signed_at is not None:
        raise SelfInspectionSignedError(
            number=report.number,
            signed_at=report.signed_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y"))
    if content_digest(report, report.items) != report.digest:
        raise SelfInspectionAlteredError(number=report.number)
    report.signed_at = ctx.now()
    report.signed_by_id = actor.id
    report.signed_name = actor.full_name
    report.signed_title = clean_text(title, "title", 120) or "Thủ trưởng đơn vị"
    ctx.session.flush()
    return report


# --------------------------------------------------------------------------- remediation


def remediation_for(ctx: Ctx, report: SelfInspection, code: str) -> Remediation | None:
    """The remediation the report shows for an item: the unit's latest for that code opened
    by this report or an earlier one."""
    return ctx.session.execute(
        select(Remediation).where(Remediation.unit_id == report.unit_id,
                                  Remediation.code == code,
                                  Remediation.opened_in_id <= report.id)
        .order_by(Remediation.id.desc()).limit(1)).unique().scalar_one_or_none()


def get_remediation(ctx: Ctx, actor: User | None, remediation_id: int) -> Remediation:
    rem = ctx.session.get(Remediation, remediation_id)
    if rem is None or (actor is not None and actor.unit_id != rem.unit_id):
        raise UnknownRemediationError(remediation=remediation_id)
    if actor is not None and not may_read(actor, rem.unit_id):
        raise ForbiddenError()
    return rem


@transactional
def update_remediation(ctx: Ctx, actor: User | None, remediation_id: int, *,
                       assignee_username: str | None = None, assignee_name: str | None = None,
                       due_on: date | None = None, done_on: date | None = None,
                       note: str | None = None) -> Remediation:
    """Set who fixes it (a person of the unit, or a name), by when, a note; a done date
    closes it (in the unit's latest report). Goes on after the report is signed.

    Refused: another unit's remediation (``unknown_remediation``), a person not of the unit
    (``unknown_user``), a closed one (``remediation_closed``), a done date in the future or a
    date before the report that opened it (``invalid_field``)."""
    rem = get_remediation(ctx, actor, remediation_id)
    if not rem.is_open:
        raise RemediationClosedError(
            remediation=rem.id, done_on=rem.done_on.strftime("%d/%m/%Y") if rem.done_on else "")
    today = local_date(ctx.now())
    opened = local_date(rem.opened_in.run_at)
    username = clean_text(assignee_username, "assignee", 64)
    if username:
        person = ctx.session.execute(
            select(User).where(User.username == username.lower())).unique().scalar_one_or_none()
        if person is None or person.unit_id != rem.unit_id:
            raise UnknownUserError(username=username)
        rem.assignee_user_id, rem.assignee_name = person.id, None
        ctx.session.expire(rem, ["assignee_user"])
    else:
        name = clean_text(assignee_name, "assignee_name", 120)
        if name:
            rem.assignee_user_id, rem.assignee_name = None, name
            ctx.session.expire(rem, ["assignee_user"])
    if due_on is not None:
        if due_on < opened:
            raise ValidationError(field="due_on", reason="trước ngày lập báo cáo")
        rem.due_on = due_on
    if note is not None:
        rem.note = clean_text(note, "note", 500) or ""
    if done_on is not None:
        if done_on > today:
            raise ValidationError(field="done_on", reason="ở tương lai")
        if done_on < opened:
            raise ValidationError(field="done_on", reason="trước ngày lập báo cáo")
        latest = ctx.session.execute(
            select(func.max(SelfInspection.id)).where(SelfInspection.unit_id == rem.unit_id)
        ).scalar_one()
        rem.done_on, rem.closed_in_id = done_on, latest
    rem.updated_at = ctx.now()
    rem.updated_by_id = actor.id if actor is not None else None
    ctx.session.flush()
    return rem


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ItemView:
    """One checklist item of a report as shown and printed."""

    check: Check
    count: int
    numbers: list[str]
    fixed: list[str] | None
    new: list[str] | None
    remediation: Remediation | None

    @property
    def code(self) -> str:
        return self.check.code

    def to_dict(self) -> dict[str, Any]:
        rem = self.remediation
        return {
            "code": self.code, "kind": self.check.kind, "title_vi": self.check.vi,
            "title": self.check.en, "count": self.count, "numbers": self.numbers,
            "fixed_since": self.fixed, "new_since": self.new,
            "remediation": None if rem is None else {
                "id": rem.id, "assignee": rem.assignee or None,
                "due_on": rem.due_on.isoformat() if rem.due_on else None,
                "done_on": rem.done_on.isoformat() if rem.done_on else None,
                "note": rem.note or "", "open": rem.is_open},
        }


def item_views(ctx: Ctx, report: SelfInspection) -> list[ItemView]:
    views = []
    for item in report.items:
        check = CHECKS.get(item.code) or Check(item.code, ENVELOPE, item.code, item.code)
        views.append(ItemView(check, item.count, list(item.numbers), item.fixed, item.new,
                              remediation_for(ctx, report, item.code)))
    return views


def report_dict(ctx: Ctx, report: SelfInspection) -> dict[str, Any]:
    """The report for ``--json``: its facts and one entry per checklist item."""
    return {
        "number": report.number, "unit": report.unit.code,
        "period_from": report.period_from.isoformat(),
        "period_to": report.period_to.isoformat(),
        "run_at": report.run_at.isoformat(),
        "previous": report.previous.number if report.previous is not None else None,
        "digest": report.digest,
        "signed_at": report.signed_at.isoformat() if report.signed_at else None,
        "signed_by": report.signed_name,
        "items": [v.to_dict() for v in item_views(ctx, report)],
    }


def unit_people(ctx: Ctx, unit_id: int) -> list[User]:
    """Who may be named to fix something: the unit's active people, by name."""
    return list(ctx.session.execute(
        select(User).where(User.unit_id == unit_id, User.is_active)
        .order_by(User.full_name)).unique().scalars())
