"""What the verifier's rules look up, loaded once per run from the small tables: users
(heads of unit, names), incidents, subject rules, the few bags that break a bag rule, the
sheets a paper receipt may name, the time limits and the working-day calendar."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from itertools import chain as chain_iter
from typing import Any

from sqlalchemy import select

from kt1.models import (
    Bag,
    CopyApprover,
    Envelope,
    Handoff,
    Incident,
    ManifestLine,
    ProtectionRule,
    SubjectRule,
    User,
)
from kt1.models.enums import Classification, EventKind, IncidentKind
from kt1.services import chain
from kt1.services.context import Ctx
from kt1.services.deadlines import SECONDS_PER_DAY, Deadlines, day_number, epoch_of
from kt1.services.paper import paper_sheets
from kt1.services.rules.facts import (
    JSON_NULL,
    PaperSheet,
    PendingIncident,
    SealReport,
    World,
    number_wire,
    sheet_key,
    time_wire,
)


class _Incident:
    __slots__ = ("handoff_id", "id", "opened_at", "resolved_at", "seal")

    def __init__(self, id_: int, handoff_id: bytes, opened_at: bytes,
                 resolved_at: bytes | None, seal: SealReport) -> None:
        self.id, self.handoff_id, self.seal = id_, handoff_id, seal
        self.opened_at, self.resolved_at = opened_at, resolved_at


class StoredWorld(World):
    """The :class:`~kt1.services.rules.facts.World` of a verification run."""

    def __init__(self, ctx: Ctx, now: datetime) -> None:
        session = ctx.session
        self.ctx = ctx
        self.now = now
        self.now_epoch = now.timestamp()
        self.future_limit = time_wire(now + ctx.settings.max_clock_skew)
        self.deadlines = Deadlines.load(ctx)
        self.heads: frozenset[bytes] = frozenset(
            number_wire(uid) for (uid,) in session.execute(
                select(User.id).where(User.is_unit_head.is_(True))))
        self.names = {number_wire(uid): name for uid, name in session.execute(
            select(User.id, User.full_name))}
        self.inactive: frozenset[bytes] = frozenset(
            number_wire(uid) for (uid,) in session.execute(
                select(User.id).where(User.is_active.is_(False))))
        self._load_incidents(ctx)
        rules = session.execute(select(
            SubjectRule.effective_from, SubjectRule.classification, SubjectRule.policy
        ).order_by(SubjectRule.effective_from)).all()
        self.subject_rules = [(day_number(d), str(c).encode(), str(p)) for d, c, p in rules]
        # Rule P5: the dated protection terms (docs/domain.md §8), oldest first.
        self.term_rules = [(d.isoformat().encode(), str(c).encode(), years) for d, c, years in
                           session.execute(select(
                               ProtectionRule.effective_from, ProtectionRule.classification,
                               ProtectionRule.years).order_by(ProtectionRule.effective_from))]
        # Bag facts are not in the hashed chain; only the few bags that break a rule are kept.
        self.bags_without_tracker = frozenset(
            number_wire(b) for (b,) in session.execute(_bags_without_tracker()))
        self.bags_without_escort = frozenset(
            number_wire(b) for (b,) in session.execute(_bags_without_escort()))
        self.bagged_late = frozenset(
            number_wire(h) for (h,) in session.execute(_bagged_after_sealing()))
        self.lines: dict[bytes, bytes] = {}
        # Rule A8: every sheet a paper receipt may name, with the envelopes it lists.
        self.sheets = paper_sheets(session)
        self._load_copies(ctx)

    def _load_copies(self, ctx: Ctx) -> None:
        """Rules P1 to P3: every copy's number by original, which of those originals exist,
        and who may allow copies in each unit (listed, or its heads)."""
        session = ctx.session
        self.copy_nos: dict[bytes, list[int]] = defaultdict(list)
        for original, no in session.execute(select(Envelope.copy_of_id, Envelope.copy_no)
                                            .where(Envelope.copy_of_id.is_not(None))):
            if no is not None:
                self.copy_nos[number_wire(original)].append(no)
        self.originals: frozenset[bytes] = frozenset()
        if self.copy_nos:
            copied = select(Envelope.copy_of_id).where(Envelope.copy_of_id.is_not(None))
            self.originals = frozenset(number_wire(i) for (i,) in session.execute(
                select(Envelope.id).where(Envelope.id.in_(copied))))
        self.copy_approvers: frozenset[tuple[bytes, bytes]] = frozenset(
            (number_wire(unit), number_wire(user)) for unit, user in session.execute(
                select(CopyApprover.unit_id, CopyApprover.user_id)))
        self.unit_heads: frozenset[tuple[bytes, bytes]] = frozenset(
            (number_wire(unit), number_wire(user)) for unit, user in session.execute(
                select(User.unit_id, User.id).where(User.is_unit_head.is_(True))))

    def _load_incidents(self, ctx: Ctx) -> None:
        self.seal_by_handoff: dict[bytes, list[_Incident]] = defaultdict(list)
        self.seal_by_envelope: dict[bytes, list[_Incident]] = defaultdict(list)
        self.seal_by_bag: dict[bytes, list[_Incident]] = defaultdict(list)
        self.disc_by_envelope: dict[bytes, list[_Incident]] = defaultdict(list)
        self.disc_by_bag: dict[bytes, list[_Incident]] = defaultdict(list)
        # rule T2: incidents not acknowledged yet, with the end of their time (working days)
        self.pending_by_envelope: dict[bytes, list[PendingIncident]] = defaultdict(list)
        self.pending_by_bag: dict[bytes, list[PendingIncident]] = defaultdict(list)
        ack_seconds = ctx.settings.incident_ack_working_days * SECONDS_PER_DAY
        calendar = self.deadlines.calendar
        for row in ctx.session.execute(select(
                Incident.id, Incident.kind, Incident.envelope_id, Incident.bag_id,
                Incident.handoff_id, Incident.report, Incident.opened_at,
                Incident.acknowledged_at, Incident.resolved_at)):
            inc = _Incident(row.id, number_wire(row.handoff_id), time_wire(row.opened_at),
                            time_wire(row.resolved_at) if row.resolved_at else None,
                            SealReport(row.id, row.report or ""))
            if row.acknowledged_at is None:
                pending = PendingIncident(row.id, str(row.kind), calendar.add_working_seconds(
                    epoch_of(row.opened_at), ack_seconds))
                if row.envelope_id is not None:
                    self.pending_by_envelope[number_wire(row.envelope_id)].append(pending)
                if row.bag_id is not None:
                    self.pending_by_bag[number_wire(row.bag_id)].append(pending)
            if str(row.kind) == IncidentKind.SEAL_ANOMALY:
                for key, index in ((row.handoff_id, self.seal_by_handoff),
                                   (row.envelope_id, self.seal_by_envelope),
                                   (row.bag_id, self.seal_by_bag)):
                    if key is not None:
                        index[number_wire(key)].append(inc)
            elif str(row.kind) == IncidentKind.DISCREPANCY:
                if row.envelope_id is not None:
                    self.disc_by_envelope[number_wire(row.envelope_id)].append(inc)
                if row.bag_id is not None:
                    self.disc_by_bag[number_wire(row.bag_id)].append(inc)

    # -- World
    def is_head(self, user: bytes) -> bool:
        return user in self.heads

    def full_name(self, user: bytes) -> str:
        return self.names.get(user, "")

    def is_inactive(self, user: bytes) -> bool:
        return user in self.inactive

    def open_discrepancy(self, envelope_id: bytes, bag: bytes, at: bytes) -> int | None:
        found = self.disc_by_envelope.get(envelope_id)
        on_bag = self.disc_by_bag.get(bag) if bag != JSON_NULL else None
        if not found and not on_bag:
            return None
        for inc in chain_iter(found or (), on_bag or ()):
            if inc.opened_at < at and (inc.resolved_at is None or inc.resolved_at > at):
                return inc.id
        return None

    def seal_report(self, envelope_id: bytes, bag: bytes, handoff_id: bytes
                    ) -> SealReport | None:
        # An incident opened at another handoff of this envelope does not report this one
        # (the write path opens one per anomalous handoff); one opened on the envelope by
        # hand does.
        found = list(chain_iter(
            self.seal_by_handoff.get(handoff_id, ()),
            (i for i in self.seal_by_envelope.get(envelope_id, ())
             if i.handoff_id in (handoff_id, JSON_NULL)),
            self.seal_by_bag.get(bag, ()) if bag != JSON_NULL else ()))
        if not found:
            return None
        return next((i for i in found if i.handoff_id == handoff_id), found[0]).seal

    def unacknowledged_incidents(self, envelope_id: bytes, bags: Iterable[bytes]
                                 ) -> list[PendingIncident]:
        found = list(self.pending_by_envelope.get(envelope_id, ()))
        if self.pending_by_bag:
            for bag in bags:
                found.extend(self.pending_by_bag.get(bag, ()))
        return found

    def manifest_lines(self, envelope_id: bytes) -> dict[bytes, bytes]:
        return self.lines  # set by the replay for the envelope it checks

    def bagged_after_sealing(self, handoff_id: bytes) -> bool:
        return handoff_id in self.bagged_late

    def bag_lacks_tracker(self, bag: bytes) -> bool:
        return bag in self.bags_without_tracker

    def bag_lacks_escort(self, bag: bytes) -> bool:
        return bag in self.bags_without_escort

    def paper_sheet(self, reference: bytes) -> PaperSheet | None:
        return self.sheets.get(sheet_key(reference))

    def copy_numbers(self, original: bytes) -> list[int]:
        return self.copy_nos.get(original, [])

    def envelope_exists(self, envelope_id: bytes) -> bool:
        return envelope_id in self.originals

    def may_allow_copies(self, unit: bytes, user: bytes) -> bool:
        # today's configuration, leniently: listed for the unit, or a head of it (a unit
        # that named its approvers after a head allowed a copy does not break that copy)
        return (unit, user) in self.copy_approvers or (unit, user) in self.unit_heads

    def term_years(self, classification: bytes, day: bytes) -> int | None:
        years = None
        for start, cls, found in self.term_rules:
            if start <= day and cls == classification:
                years = found
        return years

    # -- beyond the link rules
    def subject_policy(self, classification: bytes, day: int) -> str:
        """Rule 14 as :func:`kt1.services.subjects.subject_policy` reads it, for day numbers."""
        policy = "forbidden"
        for start, cls, rule in self.subject_rules:
            if start <= day and cls == classification:
                policy = rule
        return policy

    def precise_hash_ok(self, handoff_id: bytes) -> bool:
        """Recompute one link's hash with ``chain.canonical`` itself (the slow, exact path)."""
        session = self.ctx.session
        try:
            h = session.get(Handoff, int(handoff_id))
            if h is None:
                return False
            identity = None
            if h.seq == 0:
                envelope = session.get(Envelope, h.envelope_id)
                if envelope is None:
                    return False
                identity = chain.envelope_identity(envelope)
            return chain.link_hash(h.prev_hash, chain.canonical(h, identity)) == h.hash
        except (ValueError, TypeError, LookupError):  # a tampered value the models refuse
            return False


def _bags_without_tracker() -> Any:
    return (select(Bag.id).distinct()
            .join(ManifestLine, ManifestLine.bag_id == Bag.id)
            .join(Envelope, Envelope.id == ManifestLine.envelope_id)
            .where(Bag.tracker_id.is_(None) | (Bag.tracker_id == ""),
                   Envelope.classification == Classification.TOP_SECRET,
                   ManifestLine.removed_at.is_(None)))  # taken out before the sealing


def _bags_without_escort() -> Any:
    return select(Bag.id).where(
        Bag.is_dedicated_vehicle.is_(False),
        Bag.escort_name.is_(None) | (Bag.escort_name == ""))


def _bagged_after_sealing() -> Any:
    """``bagged`` links written after their bag was sealed: only an open bag takes envelopes
    (bagging.ALLOWED_IN), and a bag is sealed once. Written after, not timed after: the
    order the server wrote the links in (ids), which a device clock cannot change."""
    sealed = Handoff.__table__.alias("sealed")
    return select(Handoff.id).where(
        Handoff.kind == EventKind.BAGGED, Handoff.bag_id.is_not(None),
        select(sealed.c.id).where(sealed.c.bag_id == Handoff.bag_id,
                                  sealed.c.kind == EventKind.BAG_SEALED,
                                  sealed.c.id < Handoff.id).exists())
