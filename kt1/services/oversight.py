"""What the security officer (cán bộ bảo mật) watches: the state of every envelope their unit
may see, from ``verify`` and the deadline rules, and one envelope's file.

Read-only. Every envelope comes from :func:`kt1.services.access.visible_envelopes`, so an
officer never counts or opens another unit's envelope; incidents are those on a visible
envelope or bag, or reported by the officer's own unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select

from kt1.errors import ForbiddenError
from kt1.models import Bag, Envelope, Handoff, Incident, Unit, User
from kt1.models.enums import (
    Classification,
    EnvelopeStatus,
    IncidentStatus,
    Role,
    ServiceClass,
)
from kt1.services import verify as verification
from kt1.services.access import require_role, visible_bags, visible_envelopes
from kt1.services.context import Ctx
from kt1.services.custody import timeline
from kt1.services.deadlines import VIETNAM, local_date
from kt1.services.printing import print_history
from kt1.services.subjects import read_subject
from kt1.services.worklists import Page, find_envelope, paginate

#: The dashboard's columns, in order.
METRICS = ("in_transit", "due_today", "overdue", "incidents", "broken")

#: Roles that may watch custody: the unit's security officer, and the administrator (who
#: sees every envelope's metadata, never a subject).
WATCHERS = (Role.SECURITY_OFFICER, Role.ADMINISTRATOR)

#: Statuses before the first delivery attempt: the J+N deadline still runs for these.
BEFORE_DELIVERY = frozenset({
    EnvelopeStatus.ACCEPTED, EnvelopeStatus.BAGGED, EnvelopeStatus.BAG_SEALED,
    EnvelopeStatus.IN_TRANSIT, EnvelopeStatus.BAG_RECEIVED, EnvelopeStatus.AT_OFFICE,
    EnvelopeStatus.OUT_FOR_DELIVERY,
})

#: How many numbers one ``verify`` call is given (SQLite limits bound parameters).
VERIFY_CHUNK = 5_000


@dataclass
class Tally:
    """Counts of one dashboard row."""

    in_transit: int = 0
    due_today: int = 0
    overdue: int = 0
    incidents: int = 0
    broken: int = 0

    def add(self, metric: str) -> None:
        setattr(self, metric, getattr(self, metric) + 1)

    @property
    def values(self) -> list[int]:
        return [getattr(self, m) for m in METRICS]

    @property
    def is_empty(self) -> bool:
        return not any(self.values)


@dataclass(frozen=True)
class Attention:
    """An envelope the officer should look at: broken, overdue or due today."""

    number: str
    reason: str  # "broken", "overdue" or "due_today"
    status: EnvelopeStatus
    classification: Classification
    service: ServiceClass
    holder_unit: str
    due_at: datetime | None
    codes: tuple[str, ...]
    #: One finding per code, in words: (code, Vietnamese message, English message).
    words: tuple[tuple[str, str, str], ...] = ()


@dataclass
class Dashboard:
    """Counts by the unit now holding each envelope, by classification and by service."""

    as_of: datetime
    checked: int
    complete: int = 0
    total: Tally = field(default_factory=Tally)
    by_unit: dict[str, Tally] = field(default_factory=dict)
    by_class: dict[Classification, Tally] = field(default_factory=dict)
    by_service: dict[ServiceClass, Tally] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)
    attention: list[Attention] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    incident_numbers: dict[int, str] = field(default_factory=dict)

    def count(self, metric: str, unit: str, classification: Classification | None,
              service: ServiceClass | None) -> None:
        self.total.add(metric)
        self.by_unit.setdefault(unit, Tally()).add(metric)
        if classification is not None:
            self.by_class.setdefault(classification, Tally()).add(metric)
        if service is not None:
            self.by_service.setdefault(service, Tally()).add(metric)


@dataclass(frozen=True)
class _Row:
    id: int
    number: str
    classification: Classification
    service: ServiceClass
    status: EnvelopeStatus
    holder: str


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def verify_numbers(ctx: Ctx, numbers: Sequence[str], now: datetime
                   ) -> dict[str, verification.EnvelopeReport]:
    """``verify`` over these envelopes (already known to exist), in chunks."""
    out: dict[str, verification.EnvelopeReport] = {}
    for chunk in _chunks(list(numbers), VERIFY_CHUNK):
        for report in verification.verify(ctx, list(chunk), now=now):
            out[report.number] = report
    return out


def _reason(report: verification.EnvelopeReport, row: _Row, today: date) -> str | None:
    if report.status == verification.BROKEN:
        return "broken"
    if report.status == verification.OVERDUE:
        return "overdue"
    if report.status == verification.IN_TRANSIT:
        due = report.due_at
        if due is not None and row.status in BEFORE_DELIVERY and local_date(due) == today:
            return "due_today"
        return "in_transit"
    return None


def _in_words(report: verification.EnvelopeReport) -> tuple[tuple[str, str, str], ...]:
    """The report's first finding of each code: (code, Vietnamese, English)."""
    seen: dict[str, tuple[str, str, str]] = {}
    for f in report.findings:
        seen.setdefault(f.code, (f.code, f.message_vi, f.message_en))
    return tuple(seen.values())


def dashboard(ctx: Ctx, actor: User, *, attention_limit: int = 500) -> Dashboard:
    """Verify every envelope the actor may see and count what needs watching.

    ``in_transit`` counts envelopes on their way within their deadlines (``due_today``
    those whose first delivery attempt is due today, Vietnam time, included); ``overdue``
    and ``broken`` are ``verify``'s verdicts; ``incidents`` counts open incidents.
    """
    require_role(actor, *WATCHERS)
    now = ctx.now()
    today = local_date(now)
    unit_alias = select(Unit.id, Unit.code, Unit.name).subquery()
    rows = [
        _Row(id=r[0], number=r[1], classification=r[2], service=r[3], status=r[4], holder=r[5])
        for r in ctx.session.execute(
            visible_envelopes(actor)
            .with_only_columns(Envelope.id, Envelope.number, Envelope.classification,
                               Envelope.service, Envelope.status, unit_alias.c.code)
            .join(unit_alias, unit_alias.c.id == Envelope.holder_unit_id)
            .order_by(Envelope.id))
    ]
    names = {code: name for code, name in ctx.session.execute(select(Unit.code, Unit.name))}
    board = Dashboard(as_of=now, checked=len(rows))
    reports = verify_numbers(ctx, [r.number for r in rows], now) if rows else {}
    for row in rows:
        report = reports.get(row.number)
        if report is None:
            continue
        reason = _reason(report, row, today)
        if reason is None:
            board.complete += 1
            continue
        metrics = ["in_transit", "due_today"] if reason == "due_today" else [reason]
        for metric in metrics:
            board.count(metric, row.holder, row.classification, row.service)
        if reason != "in_transit" and len(board.attention) < attention_limit:
            board.attention.append(Attention(
                number=row.number, reason=reason, status=row.status,
                classification=row.classification, service=row.service,
                holder_unit=row.holder, due_at=report.due_at,
                codes=tuple(dict.fromkeys(f.code for f in report.findings)),
                words=_in_words(report)))
    order = {"broken": 0, "overdue": 1, "due_today": 2}
    board.attention.sort(key=lambda a: (order[a.reason], a.due_at or now, a.number))

    by_id = {r.id: r for r in rows}
    for incident in open_incidents(ctx, actor):
        seen = by_id.get(incident.envelope_id) if incident.envelope_id is not None else None
        if seen is not None:
            board.count("incidents", seen.holder, seen.classification, seen.service)
            board.incident_numbers[incident.id] = seen.number
        else:
            unit = ctx.session.get(Unit, incident.unit_id)
            board.count("incidents", unit.code if unit else "?", None, None)
        board.incidents.append(incident)
    board.unit_names = {code: names.get(code, code) for code in board.by_unit}
    return board


def open_incidents(ctx: Ctx, actor: User) -> list[Incident]:
    """Open incidents on an envelope or a bag the actor may see, or reported by their unit."""
    require_role(actor, *WATCHERS)
    envelope_ids = visible_envelopes(actor).with_only_columns(Envelope.id)
    bag_ids = visible_bags(actor).with_only_columns(Bag.id)
    stmt = select(Incident).where(Incident.status == IncidentStatus.OPEN)
    if actor.role is not Role.ADMINISTRATOR:
        stmt = stmt.where(or_(Incident.envelope_id.in_(envelope_ids),
                              Incident.bag_id.in_(bag_ids),
                              Incident.unit_id == actor.unit_id))
    return list(ctx.session.execute(stmt.order_by(Incident.opened_at, Incident.id)).scalars())


# --------------------------------------------------------------------------- one envelope


#: The status groups the envelope list filters by: ``verify``'s verdicts, with ``due_today``
#: the envelopes in transit whose first delivery attempt is due today (as on the dashboard).
STATUS_GROUPS = ("in_transit", "due_today", "overdue", "broken", "complete")


@dataclass(frozen=True)
class EnvelopeFilter:
    """What the officer's envelope list is narrowed to (every field optional)."""

    q: str = ""
    status: str | None = None
    classification: Classification | None = None
    service: ServiceClass | None = None
    unit: str | None = None  # code of the unit now holding the envelope
    day_from: date | None = None  # registered on or after (Vietnam date)
    day_to: date | None = None  # registered on or before (Vietnam date)

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.status or self.classification or self.service
                    or self.unit or self.day_from or self.day_to)


def _day_start(day: date) -> datetime:
    """The UTC moment a Vietnam calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=VIETNAM).astimezone(UTC)


def envelopes_query(actor: User, q: str | None = None,
                    filt: EnvelopeFilter | None = None) -> Select[Envelope]:
    """Envelopes the actor may see, newest first, narrowed to item or document numbers
    containing ``q`` and to ``filt``'s class, service, holding unit and registration dates
    (the status group needs ``verify``: see :func:`filtered_envelopes`)."""
    require_role(actor, *WATCHERS)
    stmt = visible_envelopes(actor)
    filt = filt or EnvelopeFilter()
    text = (q if q is not None else filt.q or "").strip()
    if text:
        stmt = stmt.where(or_(Envelope.number.contains(text.upper(), autoescape=True),
                              Envelope.document_number.contains(text, autoescape=True)))
    if filt.classification is not None:
        stmt = stmt.where(Envelope.classification == filt.classification)
    if filt.service is not None:
        stmt = stmt.where(Envelope.service == filt.service)
    if filt.unit:
        stmt = stmt.where(Envelope.holder_unit_id.in_(
            select(Unit.id).where(Unit.code == filt.unit)))
    if filt.day_from is not None:
        stmt = stmt.where(Envelope.registered_at >= _day_start(filt.day_from))
    if filt.day_to is not None:
        stmt = stmt.where(Envelope.registered_at < _day_start(filt.day_to + timedelta(days=1)))
    return stmt.order_by(Envelope.id.desc())


def filtered_envelopes(ctx: Ctx, actor: User, filt: EnvelopeFilter, page: int,
                       per_page: int = 25) -> Page[Envelope]:
    """One page of the envelopes the actor may see that match ``filt``. A status group is
    decided as on the dashboard: ``verify`` on every candidate, then the deadline rules."""
    stmt = envelopes_query(actor, filt=filt)
    if filt.status not in STATUS_GROUPS:
        return paginate(ctx, stmt, page, per_page)
    now = ctx.now()
    today = local_date(now)
    rows = [
        _Row(id=r[0], number=r[1], classification=r[2], service=r[3], status=r[4], holder="")
        for r in ctx.session.execute(stmt.with_only_columns(
            Envelope.id, Envelope.number, Envelope.classification, Envelope.service,
            Envelope.status))
    ]
    reports = verify_numbers(ctx, [r.number for r in rows], now) if rows else {}
    wanted: list[int] = []
    for row in rows:
        report = reports.get(row.number)
        if report is None:
            continue
        reason = _reason(report, row, today) or "complete"
        if reason == filt.status or (filt.status == "in_transit" and reason == "due_today"):
            wanted.append(row.id)
    pages = max(1, -(-len(wanted) // per_page))
    page = min(max(1, page), pages)
    ids = wanted[(page - 1) * per_page:page * per_page]
    by_id = {e.id: e for e in ctx.session.execute(
        select(Envelope).where(Envelope.id.in_(ids))).scalars()} if ids else {}
    return Page(items=[by_id[i] for i in ids if i in by_id], page=page, per_page=per_page,
                total=len(wanted))


@dataclass
class EnvelopeFile:
    """One envelope as the officer sees it: custody chain, verdict, prints, incidents."""

    envelope: Envelope
    chain: list[Handoff]
    report: verification.EnvelopeReport
    prints: list[dict[str, Any]]
    incidents: list[Incident]
    subject: str | None
    may_read_subject: bool


def envelope_file(ctx: Ctx, actor: User, number: str) -> EnvelopeFile:
    """The envelope's timeline with its verification findings and print history.

    Another unit's envelope is ``unknown_envelope`` (like a wrong number). The subject is
    filled in only where :func:`kt1.services.subjects.read_subject` allows the actor.
    """
    require_role(actor, *WATCHERS)
    found = find_envelope(ctx, actor, number)
    code = found.number
    report = next(iter(verification.verify(ctx, [code], now=ctx.now())))
    envelope = find_envelope(ctx, actor, code)  # verify ended its snapshot: load afresh
    try:
        subject = read_subject(actor, envelope, ctx.settings.subject_key)
        allowed = True
    except ForbiddenError:
        subject, allowed = None, False
    # The envelope's own incidents and those of the bags it travelled in (a seal found
    # broken on receiving a bag is the bag's incident).
    bag_ids = select(Handoff.bag_id).where(Handoff.envelope_id == envelope.id,
                                           Handoff.bag_id.is_not(None))
    incidents = list(ctx.session.execute(
        select(Incident).where(or_(Incident.envelope_id == envelope.id,
                                   Incident.bag_id.in_(bag_ids)))
        .order_by(Incident.opened_at, Incident.id)).scalars())
    return EnvelopeFile(envelope=envelope, chain=timeline(ctx, envelope), report=report,
                        prints=print_history(ctx, envelope), incidents=incidents,
                        subject=subject, may_read_subject=allowed)
