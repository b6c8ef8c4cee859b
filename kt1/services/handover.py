"""Handing envelopes from an agency to a KT1 post office with a handover sheet (bảng kê giao).

The registry clerk lists the envelopes on a numbered sheet and prints it. At the counter
the clerk scans what is handed over; :func:`reconcile` compares it with the sheet
(docs/rules.md, rule 6, "đối chiếu"). A difference must be reported
(:func:`report_discrepancy`, a discrepancy
incident reported to the head of the office and notified to the sender) and settled
(:func:`resolve_discrepancy`) before :func:`sign_sheet` records the ``accepted`` link of
every envelope on the sheet that was handed over, signed by the counter clerk, in one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from kt1.errors import (
    DiscrepancyOpenError,
    DiscrepancyUnreportedError,
    EnvelopeInBagError,
    EnvelopeOnSheetError,
    EventOrderError,
    ForbiddenError,
    KT1Error,
    NotCurrentHolderError,
    SheetStateError,
    UnknownEnvelopeError,
    UnknownSheetError,
    UnknownUnitError,
    UsedAfterDestructionError,
    ValidationError,
    WrongUnitError,
)
from kt1.models import Envelope, Incident, Unit, User
from kt1.models.enums import (
    AckMethod,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    IncidentStatus,
    Role,
    SealState,
    UnitKind,
)
from kt1.models.handover import HandoverLine, HandoverSheet, SheetStatus
from kt1.services import printing
from kt1.services.access import Receipt, visible_envelopes, visible_sheets
from kt1.services.context import Ctx
from kt1.services.custody import HandoffRequest, holder_label, record_in
from kt1.services.identifiers import next_value, parse_number
from kt1.services.incidents import resolve_incident
from kt1.services.subjects import local_date
from kt1.services.text import clean_text
from kt1.services.tx import transactional

#: Most envelopes on one sheet (one A4 page or two).
MAX_LINES = 150



def parse_numbers(ctx: Ctx, raw: Iterable[str]) -> tuple[list[str], list[tuple[str, KT1Error]]]:
    """Normalised item numbers (first occurrence kept) and the unreadable ones with why."""
    s = ctx.settings
    numbers: list[str] = []
    invalid: list[tuple[str, KT1Error]] = []
    for item in raw:
        text = item.strip()
        if not text:
            continue
        try:
            number = str(parse_number(text, s.service_letters, s.country_code))
        except KT1Error as exc:
            invalid.append((text[:32], exc))
            continue
        if number not in numbers:
            numbers.append(number)
    return numbers, invalid


def visible_envelope(ctx: Ctx, actor: User, number: str) -> Envelope | None:
    """The envelope numbered ``number`` if the actor's unit may see it (docs/access.md)."""
    return ctx.session.execute(
        visible_envelopes(actor).where(Envelope.number == number)).unique().scalar_one_or_none()


def sheet_numbers(ctx: Ctx, raw: Iterable[str]) -> list[str]:
    """The item numbers to list on a sheet: each valid (else its error), one at least,
    :data:`MAX_LINES` at most."""
    parsed, invalid = parse_numbers(ctx, raw)
    if invalid:
        raise invalid[0][1]
    if not parsed:
        raise ValidationError(field="numbers", reason="at least one item number")
    if len(parsed) > MAX_LINES:
        raise ValidationError(field="numbers", reason=f"at most {MAX_LINES} on one sheet")
    return parsed


def _open_sheet_of(ctx: Ctx, envelope: Envelope) -> HandoverSheet | None:
    return ctx.session.execute(
        select(HandoverSheet).join(HandoverLine, HandoverLine.sheet_id == HandoverSheet.id)
        .where(HandoverLine.envelope_id == envelope.id,
               HandoverSheet.status == SheetStatus.OPEN)).unique().scalar_one_or_none()


@transactional
def prepare_sheet(ctx: Ctx, actor: User, numbers: list[str], post_office_code: str
                  ) -> HandoverSheet:
    """List registered envelopes the clerk holds on a new handover sheet for a post office.

    Each envelope must be of the clerk's unit, registered and not yet accepted, held by
    the clerk, and on no other open sheet.
    """
    if actor.role is not Role.REGISTRY_CLERK or not actor.is_active:
        raise ForbiddenError()
    if actor.unit.kind is not UnitKind.AGENCY:
        raise ForbiddenError("only an agency hands envelopes to a post office")
    code = clean_text(post_office_code, "post_office", 32, required=True).upper()
    office = ctx.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if office is None:
        raise UnknownUnitError(code=code)
    if office.kind is not UnitKind.POST_OFFICE:
        raise ValidationError(field="post_office", reason="must be a KT1 post office")
    parsed = sheet_numbers(ctx, numbers)
    envelopes = []
    for number in parsed:
        envelope = visible_envelope(ctx, actor, number)
        if envelope is None or envelope.sender_unit_id != actor.unit_id:
            raise UnknownEnvelopeError(number=number)
        if envelope.status is EnvelopeStatus.DESTROYED:
            raise UsedAfterDestructionError(number=number)
        if envelope.status is not EnvelopeStatus.REGISTERED:
            raise EventOrderError(kind=str(EventKind.ACCEPTED), status=str(envelope.status))
        if envelope.holder_user_id != actor.id:
            raise NotCurrentHolderError(number=number, giver=actor.username,
                                        holder=holder_label(envelope))
        other = _open_sheet_of(ctx, envelope)
        if other is not None:
            raise EnvelopeOnSheetError(number=number, sheet=other.number)
        envelopes.append(envelope)
    now = ctx.now()
    year = local_date(now).year
    seq = next_value(ctx.session, f"sheet:{actor.unit_id}:{year}")
    sheet = HandoverSheet(
        number=f"GB-{actor.unit.code}-{year}-{seq:05d}", unit_id=actor.unit_id, year=year,
        seq=seq, post_office_id=office.id, giver_id=actor.id, status=SheetStatus.OPEN,
        created_at=now)
    ctx.session.add(sheet)
    ctx.session.flush()
    for line_no, envelope in enumerate(envelopes, start=1):
        ctx.session.add(HandoverLine(sheet_id=sheet.id, envelope_id=envelope.id,
                                     line_no=line_no))
    ctx.session.flush()
    return sheet


def get_sheet(ctx: Ctx, actor: User, number: str) -> HandoverSheet:
    """A sheet of the actor's agency or taken to the actor's office; otherwise not found."""
    code = clean_text(number, "sheet", 48, required=True).upper()
    sheet = ctx.session.execute(
        visible_sheets(actor).where(HandoverSheet.number == code)).unique().scalar_one_or_none()
    if sheet is None:
        raise UnknownSheetError(number=code)
    return sheet


def list_sheets(ctx: Ctx, actor: User, *, status: SheetStatus | None = None,
                limit: int = 50) -> list[HandoverSheet]:
    """The actor's unit's sheets (agency: its own; post office: those brought to it)."""
    stmt = visible_sheets(actor).order_by(HandoverSheet.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(HandoverSheet.status == status)
    return list(ctx.session.execute(stmt).unique().scalars())


@transactional
def cancel_sheet(ctx: Ctx, actor: User, number: str) -> HandoverSheet:
    """Withdraw an open sheet (the agency's registry clerks), freeing its envelopes."""
    sheet = get_sheet(ctx, actor, number)
    if actor.role is not Role.REGISTRY_CLERK or actor.unit_id != sheet.unit_id:
        raise ForbiddenError()
    if sheet.status is not SheetStatus.OPEN:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="cancel")
    sheet.status = SheetStatus.CANCELLED
    sheet.cancelled_at = ctx.now()
    return sheet


@dataclass
class Reconciliation:
    """The sheet against what was scanned at the counter (đối chiếu)."""

    sheet: HandoverSheet
    expected: list[HandoverLine]
    matched: list[Envelope] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    invalid: list[tuple[str, KT1Error]] = field(default_factory=list)
    incident: Incident | None = None
    #: Envelopes of the sheet whose label was never printed (a warning, not a refusal).
    unprinted: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.extra)

    @property
    def is_blocked(self) -> bool:
        """Signing is refused: a discrepancy is open, or one is not reported and settled."""
        if self.incident is not None and self.incident.status is IncidentStatus.OPEN:
            return True
        return self.differs and not self.covered

    @property
    def covered(self) -> bool:
        """A settled report names every envelope now missing or extra."""
        inc = self.incident
        if inc is None or inc.status is not IncidentStatus.RESOLVED:
            return False
        details: dict[str, Any] = inc.details or {}
        return (set(self.missing) <= set(details.get("missing", []))
                and set(self.extra) <= set(details.get("extra", [])))


def _counter_at(actor: User, sheet: HandoverSheet) -> None:
    if actor.role is not Role.COUNTER_CLERK or not actor.is_active:
        raise ForbiddenError()
    if actor.unit_id != sheet.post_office_id:
        raise WrongUnitError(username=actor.username, unit=sheet.post_office.code)


def reconcile(ctx: Ctx, actor: User, number: str, scanned: Iterable[str]) -> Reconciliation:
    """Compare the lines of an open sheet with the scanned numbers (nothing is written)."""
    sheet = get_sheet(ctx, actor, number)
    _counter_at(actor, sheet)
    numbers, invalid = parse_numbers(ctx, scanned)
    expected = [line for line in sheet.lines if line.accepted_at is None]
    listed = {line.envelope.number: line.envelope for line in expected}
    incident = ctx.session.get(Incident, sheet.incident_id) if sheet.incident_id else None
    return Reconciliation(
        sheet=sheet, expected=expected,
        matched=[listed[n] for n in numbers if n in listed],
        missing=[n for n in listed if n not in numbers],
        extra=[n for n in numbers if n not in listed],
        invalid=invalid, incident=incident,
        unprinted=unprinted_labels(ctx, list(listed.values())))


def unprinted_labels(ctx: Ctx, envelopes: list[Envelope]) -> list[str]:
    """The numbers of ``envelopes`` whose label was never printed (printing.unprinted_labels:
    neither on a label printer nor as a PDF): the counter is warned, it still accepts them."""
    return printing.unprinted_labels(ctx, envelopes)


@transactional
def report_discrepancy(ctx: Ctx, actor: User, number: str, scanned: list[str], report: str
                       ) -> Incident:
    """Open a discrepancy (biên bản sai lệch) for what is missing from or extra to the sheet.

    Reported at once to the head of the office and notified to the sender, like every
    incident; signing waits until it is resolved.
    """
    rec = reconcile(ctx, actor, number, scanned)
    sheet = rec.sheet
    if sheet.status is not SheetStatus.OPEN:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="report")
    text = clean_text(report, "report", 2000, required=True, multiline=True)
    if not rec.differs:
        raise ValidationError(field="report", reason="the scan matches the sheet")
    if rec.incident is not None and rec.incident.status is IncidentStatus.OPEN:
        raise DiscrepancyOpenError()
    now = ctx.now()
    incident = Incident(
        kind=IncidentKind.DISCREPANCY, unit_id=actor.unit_id, reported_by_id=actor.id,
        report=text,
        details={"sheet": sheet.number, "expected": len(rec.expected),
                 "scanned": len(rec.matched) + len(rec.extra),
                 "missing": rec.missing, "extra": rec.extra},
        opened_at=now)
    ctx.session.add(incident)
    ctx.session.flush()
    sheet.incident_id = incident.id
    return incident


def resolve_discrepancy(ctx: Ctx, actor: User, number: str, resolution: str) -> Incident:
    """Settle the sheet's open discrepancy (e.g. the missing envelope was brought, or stays
    with the agency for a later sheet)."""
    sheet = get_sheet(ctx, actor, number)
    _counter_at(actor, sheet)
    if sheet.incident_id is None:
        raise ValidationError(field="incident", reason="no discrepancy was reported")
    return resolve_incident(ctx, actor, sheet.incident_id, resolution)


@dataclass
class Signed:
    """A signed sheet and the envelopes accepted with it."""

    sheet: HandoverSheet
    accepted: list[Envelope]
    replayed: bool = False
    #: Accepted envelopes whose label was never printed (a warning, not a refusal).
    unprinted: list[str] = field(default_factory=list)


@transactional
def sign_sheet(ctx: Ctx, actor: User, number: str, scanned: list[str], *,
               broken: Iterable[str] = (), report: str = "") -> Signed:
    """Sign for the envelopes of the sheet that were handed over (ký nhận, chấp nhận).

    Refused while the scan differs from the sheet and no settled report covers the
    difference, or while the sheet's discrepancy is open. Each accepted envelope gets an
    ``accepted`` link from the clerk who made the sheet to the signed-in counter clerk,
    with its seal state (``broken`` numbers: the report is required and a seal incident is
    opened, rule 7). Signing again a signed sheet returns it unchanged.
    """
    rec = reconcile(ctx, actor, number, scanned)
    sheet = rec.sheet
    if sheet.status is SheetStatus.SIGNED:
        return Signed(sheet=sheet, accepted=[], replayed=True)
    if sheet.status is not SheetStatus.OPEN:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="sign")
    if rec.invalid:
        raise rec.invalid[0][1]
    if rec.incident is not None and rec.incident.status is IncidentStatus.OPEN:
        raise DiscrepancyOpenError()
    if rec.differs and not rec.covered:
        raise DiscrepancyUnreportedError(sheet=sheet.number)
    if not rec.matched:
        raise ValidationError(field="numbers", reason="no envelope of the sheet was scanned")
    damaged, _bad = parse_numbers(ctx, broken)
    now = ctx.now()
    lines = {line.envelope_id: line for line in rec.expected}
    for envelope in rec.matched:
        if envelope.bag_id is not None:  # cannot happen for a registered envelope
            raise EnvelopeInBagError(number=envelope.number, bag="?")
        is_broken = envelope.number in damaged
        record_in(ctx, actor, HandoffRequest(
            number=envelope.number, kind=EventKind.ACCEPTED,
            scan_id=f"sheet-{sheet.id}-{envelope.id}", event_at=now, giver=sheet.giver,
            receiver=actor, receipt=Receipt(user=actor, method=AckMethod.SESSION),
            location=actor.unit.code,
            seal_state=SealState.BROKEN if is_broken else SealState.INTACT,
            incident_report=report if is_broken else None,
            note=f"Bảng kê {sheet.number}"))
        lines[envelope.id].accepted_at = now
    sheet.status = SheetStatus.SIGNED
    sheet.signed_at = now
    sheet.signed_by_id = actor.id
    matched = {e.number for e in rec.matched}
    return Signed(sheet=sheet, accepted=rec.matched,
                  unprinted=[n for n in rec.unprinted if n in matched])
