"""Statistics of the state secrets a unit holds, sent and received (thống kê bí mật nhà nước)
and the periodic report to the superior body (báo cáo định kỳ), docs/domain.md §8.

For one unit and one period of Vietnam calendar days ``[start, end]`` (both included; the
period runs from ``start`` 00:00 to ``end + 1`` 00:00, Vietnam time, UTC+7), counted by
classification (Tuyệt mật A, Tối mật B, Mật C, unclassified) and by service class (KT1
thường, Hỏa tốc, Hẹn giờ):

``held`` (đang quản lý)
    Items the unit held at the end of the period: for each item, the last link of its
    custody chain that happened (``event_at``) before the end of the period, or before now
    when the period has not ended yet, went to this unit (``to_unit_id``) and is not a
    destruction. An item handed to a post office in the period is no longer held; one that
    arrived after the end is not held yet; a destroyed one never again. Taken from the
    chain, so a past period gives the figure it had: an item with no link after the end is
    where its current state says (state and chain move together), and only the items that
    moved after the end are looked up in their chain.
``sent`` (gửi đi)
    Originals the unit registered outgoing in the period (``Envelope.registered_at``,
    sender = the unit, ``copy_of_id`` empty).
``received`` (nhận đến)
    Items the unit entered in its incoming register in the period (a ``registered_incoming``
    link to the unit, by its ``event_at``).
``copied`` (sao, chụp)
    Copies the unit made in the period: envelopes with ``copy_of_id`` set, sender = the
    unit, ``registered_at`` in the period.
``declassified`` (giải mật), ``destroyed`` (tiêu hủy)
    ``declassified`` / ``destroyed`` links recorded by the unit (``to_unit_id``: the unit
    that holds the document records the decision) in the period, by ``event_at``.

Incidents (sự cố) by kind: those opened (``opened_at``) in the period that the unit reported
or that concern an item it sent or that is addressed to it. The per-month series (for the
line chart) counts the movements (all but ``held``) and the incidents by Vietnam month.

Every figure is a count from a GROUP BY query (six queries in all, whatever the number of
items: ``bench/statistics.py`` times them on PostgreSQL against the 2 s ceiling for a unit
with 100,000 items). Items enter by indexed envelope columns: an agency only ever holds, or
records a decision on, an item it sent or that is addressed to it (the holder after
delivery, return or recall is one of the two); for a KT1 post office the chain's links to
it are searched instead.

Who may see a unit's statistics (docs/access.md): its security officers (cán bộ bảo mật)
and its heads (thủ trưởng); the administrator, who sees every envelope's outer facts, for
any unit (counts only, never a subject); the console (``actor`` None). Any other user is
refused (``forbidden``), and a unit the user may not see answers exactly as a unit code that
does not exist (``unknown_unit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from kt1.errors import ForbiddenError, PeriodReversedError, PeriodTooLongError, UnknownUnitError
from kt1.models import Envelope, Handoff, Incident, Unit, User
from kt1.models.enums import (
    Classification,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    Role,
    ServiceClass,
    UnitKind,
)
from kt1.services.context import Ctx
from kt1.services.protection import add_years
from kt1.services.subjects import VIETNAM, local_date

#: The kinds of movement counted, in the order of the report's columns.
MOVEMENTS = ("held", "sent", "received", "copied", "declassified", "destroyed")
#: Movements with a date (the monthly series): all but ``held``, a state at the end.
DATED_MOVEMENTS = MOVEMENTS[1:]
#: The longest period a report covers.
MAX_YEARS = 10


# --------------------------------------------------------------------------- the figures


@dataclass
class Counts:
    """One row of counts, by kind of movement."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MOVEMENTS, 0))

    def __getitem__(self, movement: str) -> int:
        return self.values[movement]

    def add(self, movement: str, n: int) -> None:
        self.values[movement] += n

    @property
    def is_empty(self) -> bool:
        return not any(self.values.values())


@dataclass
class Month:
    """One month of the series: ``month`` is ``YYYY-MM`` (Vietnam time)."""

    month: str
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((*DATED_MOVEMENTS, "incidents"), 0))


@dataclass
class Statistics:
    """A unit's statistics for a period (thống kê bí mật nhà nước)."""

    unit: Unit
    start: date
    end: date
    #: The day ``held`` is counted at: the period's last day, or today if it is later.
    held_on: date
    computed_at: datetime
    by_class: dict[Classification, Counts]
    by_service: dict[ServiceClass, Counts]
    total: Counts
    incidents: dict[IncidentKind, int]
    months: list[Month]

    @property
    def incident_total(self) -> int:
        return sum(self.incidents.values())

    @property
    def is_empty(self) -> bool:
        """Nothing held, nothing moved and no incident in the period."""
        return self.total.is_empty and not self.incident_total

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``kt1 report statistics --json``)."""
        return {
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "held_on": self.held_on.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "total": dict(self.total.values),
            "by_movement": {m: {c.value: self.by_class[c][m] for c in Classification}
                            for m in MOVEMENTS},
            "by_classification": {c.value: dict(self.by_class[c].values)
                                  for c in Classification},
            "by_service": {s.value: dict(self.by_service[s].values) for s in ServiceClass},
            "incidents": {k.value: self.incidents[k] for k in IncidentKind},
            "incident_total": self.incident_total,
            "months": [{"month": m.month, **m.counts} for m in self.months],
        }


# --------------------------------------------------------------------------- period, access


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of ``start`` 00:00 and of ``end + 1`` 00:00, Vietnam time."""
    if end < start:
        raise PeriodReversedError(start=start.isoformat(), end=end.isoformat())
    if end >= add_years(start, MAX_YEARS):
        raise PeriodTooLongError(start=start.isoformat(), end=end.isoformat(), years=MAX_YEARS)
    return (datetime.combine(start, time(), VIETNAM).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(), VIETNAM).astimezone(UTC))


def may_keep_statistics(actor: User) -> bool:
    """Does this user see any unit's statistics (a security officer, a head of unit, the
    administrator)? Decides the menu link; :func:`unit_for` decides the unit."""
    return actor.is_active and (actor.role in (Role.SECURITY_OFFICER, Role.ADMINISTRATOR)
                                or actor.is_unit_head)


def unit_for(ctx: Ctx, actor: User | None, code: str) -> Unit:
    """The unit whose statistics ``actor`` asks for; one they may not see is unknown."""
    if actor is not None and not may_keep_statistics(actor):
        raise ForbiddenError()
    wanted = (code or "").strip().upper()
    unit = ctx.session.execute(select(Unit).where(Unit.code == wanted)).scalar_one_or_none()
    if unit is None or (actor is not None and actor.role is not Role.ADMINISTRATOR
                        and actor.unit_id != unit.id):
        raise UnknownUnitError(code=code)
    return unit


# --------------------------------------------------------------------------- the queries


def _local_month(session: Session, column: Any) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp column in Vietnam time (UTC+7, no daylight saving)."""
    # constants as literals: the same expression in SELECT and GROUP BY must not differ by
    # its bound parameters (PostgreSQL binds them server-side, as $1 and $5)
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(
            func.timezone(literal_column("'UTC'"), column) + literal_column("interval '7 hours'"),
            literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column, literal_column("'+7 hours'"))


def _unit_items(unit: Unit) -> ColumnElement[bool]:
    """Envelopes the unit can have held or decided on (see the module): an agency's are
    those it sent or that are addressed to it, a post office's those with a link to it."""
    if unit.kind is UnitKind.POST_OFFICE:
        return Envelope.id.in_(select(Handoff.envelope_id).where(Handoff.to_unit_id == unit.id))
    return or_(Envelope.sender_unit_id == unit.id, Envelope.recipient_unit_id == unit.id)


def _rows(session: Session, stmt: Any) -> Iterator[Any]:
    yield from session.execute(stmt).all()


def compute(ctx: Ctx, actor: User | None, unit_code: str, start: date, end: date
            ) -> Statistics:
    """The statistics of the unit ``unit_code`` for the days ``start`` to ``end``."""
    since, until = period_bounds(start, end)
    unit = unit_for(ctx, actor, unit_code)
    session = ctx.session
    now = ctx.now()
    held_until = min(until, now)
    by_class = {c: Counts() for c in Classification}
    by_service = {s: Counts() for s in ServiceClass}
    total = Counts()
    months = {m: Month(m) for m in _month_keys(start, end)}

    def count(movement: str, classification: Any, service: Any, n: int,
              month: str | None = None) -> None:
        by_class[Classification(classification)].add(movement, n)
        by_service[ServiceClass(service)].add(movement, n)
        total.add(movement, n)
        if month is not None and month in months:
            months[month].counts[movement] += n

    # 1. sent and copied: the unit's outgoing registrations in the period
    month = _local_month(session, Envelope.registered_at)
    is_copy = Envelope.copy_of_id.is_not(None)
    for cls, service, copy, mon, n in _rows(session, select(
            Envelope.classification, Envelope.service, is_copy, month, func.count())
            .where(Envelope.sender_unit_id == unit.id, Envelope.registered_at >= since,
                   Envelope.registered_at < until)
            .group_by(Envelope.classification, Envelope.service, is_copy, month)):
        count("copied" if copy else "sent", cls, service, n, mon)

    # 2. received, declassified, destroyed: the unit's links of those kinds in the period
    kinds = {EventKind.REGISTERED_INCOMING: "received", EventKind.DECLASSIFIED: "declassified",
             EventKind.DESTROYED: "destroyed"}
    month = _local_month(session, Handoff.event_at)
    for kind, cls, service, mon, n in _rows(session, select(
            Handoff.kind, Envelope.classification, Envelope.service, month, func.count())
            .join(Envelope, Envelope.id == Handoff.envelope_id)
            .where(_unit_items(unit), Handoff.to_unit_id == unit.id,
                   Handoff.kind.in_(list(kinds)), Handoff.event_at >= since,
                   Handoff.event_at < until)
            .group_by(Handoff.kind, Envelope.classification, Envelope.service, month)):
        count(kinds[EventKind(kind)], cls, service, n, mon)

    # 3. held at the end: the last link before then went to the unit and is no destruction.
    # An item whose last link is before the end is where its current state says (the state
    # moves with the chain in the same transaction): one indexed query on the holder.
    for cls, service, n in _rows(session, select(
            Envelope.classification, Envelope.service, func.count())
            .where(Envelope.holder_unit_id == unit.id, Envelope.status != EnvelopeStatus.DESTROYED,
                   Envelope.last_event_at < held_until)
            .group_by(Envelope.classification, Envelope.service)):
        count("held", cls, service, n)
    # The items that moved after the end but had a link before it: their chain says. The
    # last link before the end is looked up item by item in the chain's (envelope, seq)
    # index by a correlated subquery (a join lets the planner scan every handoff).
    first, link = aliased(Handoff), aliased(Handoff)
    held_then = (select(case((and_(link.to_unit_id == unit.id,
                                    link.kind != EventKind.DESTROYED), 1), else_=0))
                 .where(link.envelope_id == Envelope.id, link.event_at < held_until)
                 .order_by(link.seq.desc()).limit(1).scalar_subquery())
    for cls, service, n in _rows(session, select(
            Envelope.classification, Envelope.service, func.count())
            .join(first, and_(first.envelope_id == Envelope.id, first.seq == 0))
            .where(_unit_items(unit), Envelope.last_event_at >= held_until,
                   first.event_at < held_until, held_then == 1)
            .group_by(Envelope.classification, Envelope.service)):
        count("held", cls, service, n)

    # 4. incidents opened in the period on the unit's items, or that it reported
    incidents = dict.fromkeys(IncidentKind, 0)
    month = _local_month(session, Incident.opened_at)
    for kind, mon, n in _rows(session, select(Incident.kind, month, func.count())
                              .outerjoin(Envelope, Envelope.id == Incident.envelope_id)
                              .where(Incident.opened_at >= since, Incident.opened_at < until,
                                     or_(Incident.unit_id == unit.id,
                                         Envelope.sender_unit_id == unit.id,
                                         Envelope.recipient_unit_id == unit.id))
                              .group_by(Incident.kind, month)):
        incidents[IncidentKind(kind)] += n
        if mon in months:
            months[mon].counts["incidents"] += n

    return Statistics(
        unit=unit, start=start, end=end, held_on=min(end, local_date(now)), computed_at=now,
        by_class=by_class, by_service=by_service, total=total, incidents=incidents,
        months=list(months.values()))


def _month_keys(start: date, end: date) -> Iterable[str]:
    """``YYYY-MM`` of every month the period touches, in order."""
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# --------------------------------------------------------------------------- defaults


def default_period(today: date, span: str = "quarter") -> tuple[date, date]:
    """The period a form opens with: this quarter (or this year) up to its last day."""
    if span == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    next_start = date(today.year + 1, 1, 1) if first_month == 10 else date(
        today.year, first_month + 3, 1)
    return start, next_start - timedelta(days=1)
