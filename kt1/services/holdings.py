"""What a person holds (envelopes, bags, open handover sheets) and who may take it over.

A person who holds anything is not deactivated, moved to another unit or given another role
until it is handed over (:mod:`kt1.services.leaving`); verify reports an envelope left with a
deactivated account (docs/rules.md, rule A6). Flask-free, no transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from kt1.errors import LastCustodianError, UserHoldsItemsError
from kt1.models import Bag, Envelope, HandoverSheet, Unit, User
from kt1.models.enums import EnvelopeStatus, Role, UnitKind
from kt1.models.handover import SheetStatus
from kt1.services.context import Ctx
from kt1.services.rules.roles import ROLE_FAMILIES

#: The kind of unit each role works in (the administrator: any).
ROLE_UNIT_KINDS: dict[Role, UnitKind] = {
    Role.REGISTRY_CLERK: UnitKind.AGENCY,
    Role.SECURITY_OFFICER: UnitKind.AGENCY,
    Role.COUNTER_CLERK: UnitKind.POST_OFFICE,
    Role.COURIER: UnitKind.POST_OFFICE,
}


def role_family(role: Role) -> frozenset[Role]:
    """The roles that may take over custody from ``role``: its family in the rulebook's one
    mapping (docs/rules.md, rule A4: registry clerks; counter clerks and couriers), or none."""
    return frozenset(Role(r) for r in ROLE_FAMILIES.get(role, frozenset()))


def unit_kind_of_role(role: Role) -> UnitKind | None:
    """The kind of unit ``role`` works in, or None when any (the administrator)."""
    return ROLE_UNIT_KINDS.get(role)


@dataclass
class Holdings:
    """What ``user`` holds: envelopes (loose or in a bag they hold), bags, open sheets."""

    user: User
    envelopes: list[Envelope] = field(default_factory=list)
    bags: list[Bag] = field(default_factory=list)
    sheets: list[HandoverSheet] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.envelopes or self.bags or self.sheets)

    def counts(self) -> dict[str, int]:
        return {"envelopes": len(self.envelopes), "bags": len(self.bags),
                "sheets": len(self.sheets)}


def holdings_of(ctx: Ctx, user: User, *, lock: bool = False) -> Holdings:
    """Everything ``user`` holds, each list in id order; ``lock``: the bags and then the
    envelopes are locked (``FOR UPDATE`` on PostgreSQL, in id order, as bagging locks them;
    SQLite's write transaction already holds the database)."""
    locking = lock and ctx.session.get_bind().dialect.name == "postgresql"
    bag_stmt = select(Bag).where(Bag.holder_user_id == user.id).order_by(Bag.id) \
        .execution_options(populate_existing=True)
    if locking:
        bag_stmt = bag_stmt.with_for_update(of=Bag)
    bags = list(ctx.session.execute(bag_stmt).unique().scalars())
    # a destroyed document (docs/rules.md, rule P6) is held by nobody any more
    held = (Envelope.holder_user_id == user.id) & (
        Envelope.status != EnvelopeStatus.DESTROYED)
    env_stmt = select(Envelope).where(
        or_(held, Envelope.bag_id.in_([b.id for b in bags])) if bags else held
    ).order_by(Envelope.id).execution_options(populate_existing=True)
    if locking:
        env_stmt = env_stmt.with_for_update(of=Envelope)
    envelopes = list(ctx.session.execute(env_stmt).unique().scalars())
    sheet_stmt = select(HandoverSheet).where(
        HandoverSheet.giver_id == user.id, HandoverSheet.status == SheetStatus.OPEN
    ).order_by(HandoverSheet.id).execution_options(populate_existing=True)
    if locking:
        sheet_stmt = sheet_stmt.with_for_update(of=HandoverSheet)
    sheets = list(ctx.session.execute(sheet_stmt).unique().scalars())
    return Holdings(user=user, envelopes=envelopes, bags=bags, sheets=sheets)


def refuse_while_holding(ctx: Ctx, user: User) -> None:
    """``user_holds_items`` while ``user`` holds anything (counts only, never a subject)."""
    held = holdings_of(ctx, user)
    if not held.empty:
        counts = held.counts()
        raise UserHoldsItemsError(username=user.username, envelopes=counts["envelopes"],
                                  bags=counts["bags"], sheets=counts["sheets"])


def refuse_last_custodian(ctx: Ctx, user: User) -> None:
    """``last_custodian`` when ``user`` is the last active person of their role family in a
    unit that still holds envelopes: nobody would be left there to receive or hand them on."""
    if not user.is_active:
        return
    family = role_family(user.role)
    if not family:
        return
    others = ctx.session.execute(
        select(func.count(User.id)).where(User.unit_id == user.unit_id, User.is_active,
                                          User.role.in_(list(family)), User.id != user.id)
    ).scalar_one()
    if others:
        return
    held = ctx.session.execute(
        select(func.count(Envelope.id)).where(Envelope.holder_unit_id == user.unit_id,
                                              Envelope.status != EnvelopeStatus.DESTROYED)
    ).scalar_one()
    if held:
        unit = ctx.session.get(Unit, user.unit_id)
        raise LastCustodianError(username=user.username, role=str(user.role),
                                 unit=unit.code if unit else "?", envelopes=held)
