"""What the clerks' pages list: work queues, the unit's registers, bags, people to pick.

Read-only. Every list of envelopes starts from :func:`kt1.services.access.visible_envelopes`
(bags from ``visible_bags``), so a page never shows a row of another unit; the filters
here only narrow that down to one queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, func, or_, select

from kt1.errors import UnknownBagError, UnknownEnvelopeError
from kt1.models import Bag, Envelope, Handoff, Unit, User
from kt1.models.enums import BagStatus, EnvelopeStatus, EventKind, Role, UnitKind
from kt1.models.handover import HandoverLine, HandoverSheet, SheetStatus
from kt1.services.access import visible_bags, visible_envelopes
from kt1.services.context import Ctx
from kt1.services.identifiers import parse_number
from kt1.services.subjects import VIETNAM

T = TypeVar("T")
PER_PAGE = 25


@dataclass
class Page(Generic[T]):
    """One page of a list, with what the page links need."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(ctx: Ctx, stmt: Select[Any], page: int = 1, per_page: int = PER_PAGE
             ) -> Page[Any]:
    """Run ``stmt`` for one page (a page past the end gives the last page)."""
    total = ctx.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(ctx.session.execute(
        stmt.limit(per_page).offset((page - 1) * per_page)).unique().scalars())
    return Page(items=items, page=page, per_page=per_page, total=total)


# --------------------------------------------------------------------------- one item


def find_envelope(ctx: Ctx, actor: User, number: str) -> Envelope:
    """An envelope the actor may see; another unit's is "not found", like a wrong number."""
    s = ctx.settings
    code = str(parse_number(number, s.service_letters, s.country_code))
    envelope = ctx.session.execute(
        visible_envelopes(actor).where(Envelope.number == code)).unique().scalar_one_or_none()
    if envelope is None:
        raise UnknownEnvelopeError(number=code)
    return envelope


def find_bag(ctx: Ctx, actor: User, number: str) -> Bag:
    """A bag the actor may see (made up at, bound for or held by their unit)."""
    code = number.strip().upper()[:48]
    bag = ctx.session.execute(
        visible_bags(actor).where(Bag.number == code)).unique().scalar_one_or_none()
    if bag is None:
        raise UnknownBagError(number=code)
    return bag


# --------------------------------------------------------------------------- searching


def _search(stmt: Select[Any], q: str | None) -> Select[Any]:
    """Narrow to item numbers (or document numbers) containing ``q``."""
    text = (q or "").strip()
    if not text:
        return stmt
    return stmt.where(or_(Envelope.number.contains(text.upper(), autoescape=True),
                          Envelope.document_number.contains(text, autoescape=True)))


def _day_bounds(day_from: date | None, day_to: date | None) -> tuple[datetime | None,
                                                                      datetime | None]:
    start = datetime.combine(day_from, time.min, VIETNAM) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time.min, VIETNAM) if day_to else None
    return start, end


def outgoing_register(actor: User, year: int, q: str | None = None,
                      day_from: date | None = None, day_to: date | None = None
                      ) -> Select[Envelope]:
    """The unit's outgoing register (Sổ đăng ký BMNN đi) for ``year``, in register order."""
    stmt = visible_envelopes(actor).where(Envelope.sender_unit_id == actor.unit_id,
                                          Envelope.register_year == year)
    start, end = _day_bounds(day_from, day_to)
    if start:
        stmt = stmt.where(Envelope.registered_at >= start)
    if end:
        stmt = stmt.where(Envelope.registered_at < end)
    return _search(stmt, q).order_by(Envelope.register_seq)


def incoming_register(actor: User, year: int, q: str | None = None) -> Select[Envelope]:
    """The unit's incoming register (Sổ đăng ký BMNN đến) for ``year``, newest first."""
    stmt = visible_envelopes(actor).where(Envelope.recipient_unit_id == actor.unit_id,
                                          Envelope.incoming_year == year)
    return _search(stmt, q).order_by(Envelope.incoming_seq.desc())


@dataclass
class Passed:
    """The handoff that moved an envelope on from a stage, for a register's columns."""

    at: datetime
    to_name: str
    ack_name: str
    ack_method: str


def handoffs_of(ctx: Ctx, envelopes: Sequence[Envelope], kind: EventKind
                ) -> dict[int, Passed]:
    """The first ``kind`` handoff of each envelope (e.g. ``accepted``: date sent, who signed)."""
    ids = [e.id for e in envelopes]
    if not ids:
        return {}
    out: dict[int, Passed] = {}
    rows = ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id.in_(ids), Handoff.kind == kind)
        .order_by(Handoff.envelope_id, Handoff.seq)).scalars()
    for h in rows:
        if h.envelope_id in out:
            continue
        out[h.envelope_id] = Passed(
            at=h.event_at, to_name=h.to_user.full_name if h.to_user else h.to_unit.name,
            ack_name=h.ack_user.full_name if h.ack_user else "",
            ack_method=str(h.ack_method) if h.ack_method else "")
    return out


def latest_handoffs(ctx: Ctx, envelopes: Sequence[Envelope]) -> dict[int, Handoff]:
    """The last link of each envelope's chain (what happened most recently)."""
    out: dict[int, Handoff] = {}
    for e in envelopes:
        h = ctx.session.execute(
            select(Handoff).where(Handoff.envelope_id == e.id, Handoff.seq == e.chain_length - 1)
        ).scalar_one_or_none()
        if h is not None:
            out[e.id] = h
    return out


# --------------------------------------------------------------------------- queues


def _on_open_sheet() -> Any:
    return exists().where(HandoverLine.envelope_id == Envelope.id,
                          HandoverLine.sheet_id == HandoverSheet.id,
                          HandoverSheet.status == SheetStatus.OPEN)


def awaiting_handover(actor: User) -> Select[Envelope]:
    """Registered envelopes the clerk holds that are on no open handover sheet yet."""
    return (visible_envelopes(actor)
            .where(Envelope.sender_unit_id == actor.unit_id,
                   Envelope.status == EnvelopeStatus.REGISTERED,
                   Envelope.holder_user_id == actor.id, ~_on_open_sheet())
            .order_by(Envelope.register_seq))


def registered_not_sent(actor: User) -> Select[Envelope]:
    """Every envelope of the unit registered but not yet accepted by a post office."""
    return (visible_envelopes(actor)
            .where(Envelope.sender_unit_id == actor.unit_id,
                   Envelope.status == EnvelopeStatus.REGISTERED)
            .order_by(Envelope.register_seq))


def coming_in(actor: User) -> Select[Envelope]:
    """Envelopes for the unit that a courier has, or that were delivered and await the
    incoming register."""
    return (visible_envelopes(actor)
            .where(Envelope.recipient_unit_id == actor.unit_id,
                   Envelope.status.in_([EnvelopeStatus.OUT_FOR_DELIVERY,
                                        EnvelopeStatus.DELIVERY_FAILED,
                                        EnvelopeStatus.DELIVERED]))
            .order_by(Envelope.last_event_at))


def couriers_bringing(ctx: Ctx, actor: User) -> list[User]:
    """The couriers now holding envelopes for the actor's unit (from :func:`coming_in`): who
    may hand them over at the registry, identifying with their PIN or staff badge."""
    carried = coming_in(actor).where(Envelope.status.in_([
        EnvelopeStatus.OUT_FOR_DELIVERY, EnvelopeStatus.DELIVERY_FAILED])).order_by(None)
    holders = carried.with_only_columns(Envelope.holder_user_id).distinct().subquery()
    return list(ctx.session.execute(
        select(User).where(User.id.in_(select(holders.c.holder_user_id)),
                           User.role == Role.COURIER, User.is_active.is_(True))
        .order_by(User.full_name, User.username)).unique().scalars())


def awaiting_addressee(actor: User) -> Select[Envelope]:
    """Registered arrivals to be passed on unopened to the named person (rule 10)."""
    return (visible_envelopes(actor)
            .where(Envelope.recipient_unit_id == actor.unit_id,
                   Envelope.status == EnvelopeStatus.ARRIVED,
                   Envelope.is_addressee_only.is_(True))
            .order_by(Envelope.last_event_at))


def held_by(actor: User) -> Select[Envelope]:
    """What the actor holds now, in person (docs/rules.md, rule A7: what they may pass on
    inside the unit), the most recently moved first."""
    return (visible_envelopes(actor)
            .where(Envelope.holder_user_id == actor.id, Envelope.bag_id.is_(None))
            .order_by(Envelope.last_event_at.desc(), Envelope.id.desc()))


def held_since(ctx: Ctx, actor: User, envelopes: Sequence[Envelope]) -> dict[int, datetime]:
    """When the actor took each envelope: the last link that handed it to them from someone
    else (or registered it with them)."""
    ids = [e.id for e in envelopes]
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(Handoff.envelope_id, func.max(Handoff.event_at))
        .where(Handoff.envelope_id.in_(ids), Handoff.to_user_id == actor.id,
               or_(Handoff.from_user_id.is_(None), Handoff.from_user_id != actor.id))
        .group_by(Handoff.envelope_id))
    return {envelope_id: at for envelope_id, at in rows}


def at_office(actor: User) -> Select[Envelope]:
    """Loose envelopes at the actor's post office: accepted at the counter or out of a bag."""
    return (visible_envelopes(actor)
            .where(Envelope.holder_unit_id == actor.unit_id, Envelope.bag_id.is_(None),
                   Envelope.status.in_([EnvelopeStatus.ACCEPTED, EnvelopeStatus.AT_OFFICE]))
            .order_by(Envelope.last_event_at))


def loose_for_bag(ctx: Ctx, actor: User, bag: Bag) -> list[Envelope]:
    """What the actor could put into an open bag of their office: the loose envelopes they
    hold themselves (another clerk's would need a handover first)."""
    if bag.origin_unit_id != actor.unit_id:
        return []
    return list(ctx.session.execute(
        at_office(actor).where(Envelope.holder_user_id == actor.id)).unique().scalars())


def failed_deliveries(actor: User) -> Select[Envelope]:
    """Envelopes whose delivery failed, still with a courier of the actor's office."""
    return (visible_envelopes(actor)
            .where(Envelope.holder_unit_id == actor.unit_id,
                   Envelope.status == EnvelopeStatus.DELIVERY_FAILED)
            .order_by(Envelope.last_event_at))


def courier_round(actor: User) -> Select[Envelope]:
    """What the courier carries for delivery now (including failed attempts to retry)."""
    return (visible_envelopes(actor)
            .where(Envelope.holder_user_id == actor.id,
                   Envelope.status.in_([EnvelopeStatus.OUT_FOR_DELIVERY,
                                        EnvelopeStatus.DELIVERY_FAILED]))
            .order_by(Envelope.recipient_unit_id, Envelope.last_event_at))


def office_bags(actor: User, q: str | None = None) -> Select[Bag]:
    """The office's bags: those still being worked on first, then the newest."""
    stmt = visible_bags(actor)
    text = (q or "").strip().upper()
    if text:
        stmt = stmt.where(Bag.number.contains(text, autoescape=True))
    return stmt.order_by(Bag.id.desc())


def bags_to_receive(actor: User) -> Select[Bag]:
    """Bags in transit to the actor's office."""
    return (visible_bags(actor)
            .where(Bag.destination_unit_id == actor.unit_id,
                   Bag.status == BagStatus.IN_TRANSIT)
            .order_by(Bag.id))


def bags_in_work(actor: User) -> Select[Bag]:
    """Bags at the actor's office that are open, sealed, or received and not yet opened."""
    return (visible_bags(actor)
            .where(Bag.holder_unit_id == actor.unit_id,
                   Bag.status.in_([BagStatus.OPEN, BagStatus.SEALED, BagStatus.RECEIVED]))
            .order_by(Bag.id))


def bag_contents(ctx: Ctx, bag: Bag) -> list[Envelope]:
    """The envelopes listed on the bag's manifest, in manifest order."""
    return [line_envelope for line_envelope in (
        ctx.session.get(Envelope, line.envelope_id) for line in bag.lines)
        if line_envelope is not None]


# --------------------------------------------------------------------------- people, units


def agencies(ctx: Ctx, *, except_unit: int | None = None) -> list[Unit]:
    stmt = select(Unit).where(Unit.kind == UnitKind.AGENCY).order_by(Unit.name)
    if except_unit is not None:
        stmt = stmt.where(Unit.id != except_unit)
    return list(ctx.session.execute(stmt).scalars())


def post_offices(ctx: Ctx, *, except_unit: int | None = None) -> list[Unit]:
    stmt = select(Unit).where(Unit.kind == UnitKind.POST_OFFICE).order_by(Unit.name)
    if except_unit is not None:
        stmt = stmt.where(Unit.id != except_unit)
    return list(ctx.session.execute(stmt).scalars())


def colleagues(ctx: Ctx, unit_id: int, roles: Iterable[Role] | None = None) -> list[User]:
    """Active users of a unit (optionally of some roles), by name."""
    stmt = select(User).where(User.unit_id == unit_id, User.is_active.is_(True))
    if roles is not None:
        stmt = stmt.where(User.role.in_(list(roles)))
    return list(ctx.session.execute(stmt.order_by(User.full_name)).unique().scalars())


def user_in_unit(ctx: Ctx, unit_id: int, username: str) -> User | None:
    """An active user of this unit by username (a form's pick), else None."""
    return ctx.session.execute(
        select(User).where(User.unit_id == unit_id, User.username == username.strip().lower(),
                           User.is_active.is_(True))).unique().scalar_one_or_none()


def count(ctx: Ctx, stmt: Select[Any]) -> int:
    return int(ctx.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())
