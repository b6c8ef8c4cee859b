"""The unit's three registers for a year (docs/domain.md §5), with the cover of the volume.

* outgoing (Sổ đăng ký BMNN đi): every envelope the unit registered, in register order;
* incoming (Sổ đăng ký BMNN đến): every envelope the unit entered on arrival, in order;
* handover (Sổ chuyển giao BMNN): every handover the unit made (it was the giver), with who
  signed for it.

Read-only, and scoped through :func:`kt1.services.access.visible_envelopes` to the actor's
unit. A subject (trích yếu) is only ever filled in where
:func:`kt1.services.subjects.read_subject` allows the actor; every other entry has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Select, select

from kt1.errors import ForbiddenError, ValidationError
from kt1.models import Envelope, Handoff, User
from kt1.models.enums import TRANSFER_EVENTS, EventKind, Role
from kt1.services.access import require_role, visible_envelopes
from kt1.services.context import Ctx
from kt1.services.subjects import VIETNAM, read_subject
from kt1.services.worklists import Passed, handoffs_of

#: Who may print a unit's registers: its registry clerks and its security officer.
KEEPERS = (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER)


class RegisterKind(StrEnum):
    OUTGOING = "outgoing"  # Sổ đăng ký BMNN đi
    INCOMING = "incoming"  # Sổ đăng ký BMNN đến
    HANDOVER = "handover"  # Sổ chuyển giao BMNN


@dataclass(frozen=True)
class Cover:
    """The cover of a register volume: parent body, unit, year, first and last date and
    number."""

    kind: RegisterKind
    parent_name: str
    unit_name: str
    unit_code: str
    year: int
    first_date: date | None
    last_date: date | None
    first_number: int | None
    last_number: int | None
    entries: int


@dataclass(frozen=True)
class OutgoingEntry:
    envelope: Envelope
    sent: Passed | None  # the post office's acceptance: date sent, who signed
    subject: str | None  # only where read_subject allows the actor


@dataclass(frozen=True)
class IncomingEntry:
    envelope: Envelope
    received: Passed | None  # the registered_incoming link
    passed: Passed | None  # passed on to the named person
    subject: str | None


@dataclass(frozen=True)
class HandoverEntry:
    seq: int  # row number in the volume, from 1
    handoff: Handoff
    envelope: Envelope


@dataclass
class Register:
    cover: Cover
    outgoing: list[OutgoingEntry] = field(default_factory=list)
    incoming: list[IncomingEntry] = field(default_factory=list)
    handover: list[HandoverEntry] = field(default_factory=list)

    @property
    def kind(self) -> RegisterKind:
        return self.cover.kind

    def __len__(self) -> int:
        return self.cover.entries


def _bounds(year: int, day_from: date | None, day_to: date | None
            ) -> tuple[datetime, datetime]:
    """The UTC interval of the year (narrowed to ``day_from``..``day_to``), Vietnam days."""
    start = max(date(year, 1, 1), day_from) if day_from else date(year, 1, 1)
    end = min(date(year, 12, 31), day_to) if day_to else date(year, 12, 31)
    if end < start:
        raise ValidationError(field="day_to", reason="the last day is before the first")
    return (datetime.combine(start, time.min, VIETNAM),
            datetime.combine(end + timedelta(days=1), time.min, VIETNAM))


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(VIETNAM).date() if moment else None


def _subject(ctx: Ctx, actor: User, envelope: Envelope) -> str | None:
    if envelope.subject_ciphertext is None:
        return None
    try:
        return read_subject(actor, envelope, ctx.settings.subject_key)
    except ForbiddenError:
        return None


def outgoing_query(actor: User, year: int, start: datetime, end: datetime) -> Select[Envelope]:
    return (visible_envelopes(actor)
            .where(Envelope.sender_unit_id == actor.unit_id, Envelope.register_year == year,
                   Envelope.registered_at >= start, Envelope.registered_at < end)
            .order_by(Envelope.register_seq))


def incoming_query(actor: User, year: int) -> Select[Envelope]:
    return (visible_envelopes(actor)
            .where(Envelope.recipient_unit_id == actor.unit_id,
                   Envelope.incoming_year == year)
            .order_by(Envelope.incoming_seq))


def handover_query(actor: User, start: datetime, end: datetime
                   ) -> Select[Handoff, Envelope]:
    visible = visible_envelopes(actor).subquery()
    return (select(Handoff, Envelope)
            .join(Envelope, Envelope.id == Handoff.envelope_id)
            .where(Envelope.id.in_(select(visible.c.id)),
                   Handoff.from_unit_id == actor.unit_id,
                   Handoff.kind.in_(sorted(TRANSFER_EVENTS)),
                   Handoff.event_at >= start, Handoff.event_at < end)
            .order_by(Handoff.event_at, Handoff.id))


def build_register(ctx: Ctx, actor: User, kind: RegisterKind | str, year: int, *,
                   day_from: date | None = None, day_to: date | None = None) -> Register:
    """The register ``kind`` of the actor's unit for ``year`` (optionally some days of it)."""
    require_role(actor, *KEEPERS)
    try:
        kind = RegisterKind(kind)
    except ValueError:
        raise ValidationError(field="kind", reason="outgoing, incoming or handover") from None
    if not 2000 <= year <= 2100:
        raise ValidationError(field="year", reason="2000-2100")
    start, end = _bounds(year, day_from, day_to)
    unit = actor.unit
    numbers: list[int] = []
    dates: list[date] = []
    reg = Register(cover=Cover(kind, "", "", "", year, None, None, None, None, 0))
    if kind is RegisterKind.OUTGOING:
        envelopes = list(ctx.session.execute(
            outgoing_query(actor, year, start, end)).unique().scalars())
        sent = handoffs_of(ctx, envelopes, EventKind.ACCEPTED)
        reg.outgoing = [OutgoingEntry(e, sent.get(e.id), _subject(ctx, actor, e))
                        for e in envelopes]
        numbers = [e.register_seq for e in envelopes]
        dates = [d for d in (_day(e.registered_at) for e in envelopes) if d]
    elif kind is RegisterKind.INCOMING:
        envelopes = list(ctx.session.execute(incoming_query(actor, year)).unique().scalars())
        received = handoffs_of(ctx, envelopes, EventKind.REGISTERED_INCOMING)
        envelopes = [e for e in envelopes if e.id in received
                     and start <= received[e.id].at < end]
        passed = handoffs_of(ctx, envelopes, EventKind.PASSED_TO_ADDRESSEE)
        reg.incoming = [IncomingEntry(e, received.get(e.id), passed.get(e.id),
                                      _subject(ctx, actor, e)) for e in envelopes]
        numbers = [e.incoming_seq for e in envelopes if e.incoming_seq is not None]
        dates = [d for d in (_day(received[e.id].at) for e in envelopes) if d]
    else:
        rows: Sequence[tuple[Handoff, Envelope]] = [
            (h, e) for h, e in ctx.session.execute(handover_query(actor, start, end)).unique()]
        reg.handover = [HandoverEntry(i, h, e) for i, (h, e) in enumerate(rows, start=1)]
        numbers = [entry.seq for entry in reg.handover]
        dates = [d for d in (_day(h.event_at) for h, _e in rows) if d]
    reg.cover = Cover(
        kind=kind, parent_name=unit.parent_name, unit_name=unit.name, unit_code=unit.code,
        year=year, first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
        first_number=min(numbers) if numbers else None,
        last_number=max(numbers) if numbers else None,
        entries=len(reg.outgoing) + len(reg.incoming) + len(reg.handover))
    return reg

