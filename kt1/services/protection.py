"""Protection terms (thời hạn bảo vệ bí mật nhà nước, docs/domain.md §8): the dated rule,
a document's term as registered, and the decisions that end a secret's life.

The rule is data (table ``protection_rule``, one row per classification and
``effective_from``), looked up on the day the classification was decided, as the subject
and provenance rules are, so a new law is a new row and never a code change.

Decisions (docs/rules.md, rules P5 to P7) are recorded by a registry clerk, or the head, of
the unit holding the document, while it rests there: an extension (gia hạn, Law 29/2018
Art. 20), a declassification (giải mật, full or partial, Art. 22) or a destruction (tiêu hủy
by a council with a record, Art. 23). Each is one link of the chain (the holder unchanged,
the facts the verifier needs in its hashed note, :func:`kt1.services.rules.protection.
life_note`) and one :class:`~kt1.models.ProtectionDecision` row. The "due for review" list
(:func:`due_for_review`) shows the documents whose term ends within a horizon.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.errors import (
    AlreadyDeclassifiedError,
    DestructionNeedsDecisionError,
    ExtensionNotLongerError,
    ForbiddenError,
    ItemInTransitError,
    ProtectionTermTooLongError,
    UnknownEnvelopeError,
    UsedAfterDestructionError,
    ValidationError,
)
from kt1.models import Envelope, Handoff, ProtectionDecision, ProtectionRule, Unit, User
from kt1.models.enums import (
    HELD_STATUSES,
    AckMethod,
    Classification,
    EnvelopeStatus,
    EventKind,
    Role,
    Secrecy,
)
from kt1.services.context import Ctx
from kt1.services.rules.protection import MIN_COUNCIL, life_note
from kt1.services.text import clean_text
from kt1.services.tx import transactional


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class TermRule:
    """The longest term for one classification on one day, and where it comes from."""

    years: int
    effective_from: date
    source: str


def term_rule(session: Session, classification: Classification, on: date) -> TermRule | None:
    """The rule in force on ``on`` (the classification date), None when none covers it
    (an unclassified item has no term)."""
    row = session.execute(
        select(ProtectionRule)
        .where(ProtectionRule.classification == classification,
               ProtectionRule.effective_from <= on)
        .order_by(ProtectionRule.effective_from.desc())
        .limit(1)
    ).scalar()
    if row is None:
        return None
    return TermRule(years=row.years, effective_from=row.effective_from, source=row.source)


@dataclass(frozen=True)
class Term:
    """A registered document's term: the classification date and the end (None: unknown)."""

    classified_on: date | None
    until: date | None


def registration_term(session: Session, classification: Classification, *,
                      classified_on: date | None, shorter_until: date | None,
                      document_date: date | None, registered_on: date) -> Term:
    """The term a registration records: from the rule in force on the classification date
    (by default the document's date, else the registration day), or the shorter end the
    classifier wrote on the document. Raises ``invalid_field`` for an end before the
    classification date, ``protection_term_too_long`` for one beyond what the rule allows
    (docs/rules.md, rule P5); writes nothing."""
    if classification is Classification.UNCLASSIFIED:
        if shorter_until is not None:
            raise ValidationError(field="protection_until",
                                  reason="an unclassified item has no protection term")
        return Term(classified_on=None, until=None)
    day = classified_on or document_date or registered_on
    if day > registered_on:
        raise ValidationError(field="classified_on", reason="must not be in the future")
    rule = term_rule(session, classification, day)
    longest = add_years(day, rule.years) if rule is not None else None
    if shorter_until is not None:
        if shorter_until <= day:
            raise ValidationError(field="protection_until",
                                  reason="must be after the classification date")
        if longest is not None and shorter_until > longest:
            raise ProtectionTermTooLongError(
                field="protection_until", until=shorter_until.isoformat(),
                years=rule.years if rule else 0, classified_on=day.isoformat(),
                longest=longest.isoformat())
        return Term(classified_on=day, until=shorter_until)
    return Term(classified_on=day, until=longest)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rules_table(session: Session) -> list[ProtectionRule]:
    """Every dated term rule, oldest first, by classification (``kt1 protection rules``)."""
    return list(session.execute(select(ProtectionRule).order_by(
        ProtectionRule.effective_from, ProtectionRule.years.desc())).scalars())


# --------------------------------------------------------------------------- decisions


def _today(ctx: Ctx) -> date:
    from kt1.services.subjects import local_date

    return local_date(ctx.now())


def held_document(ctx: Ctx, actor: User, number: str) -> Envelope:
    """The document ``number`` for a decision by ``actor``: refused with the answer to a
    number never issued when the actor's unit may not see it (docs/access.md); with
    ``used_after_destruction`` once destroyed, ``item_in_transit`` while it travels (rule
    P7), ``forbidden`` when another unit holds it or the actor is no active registry clerk
    (heads of unit are) of the unit holding it. Locks the row."""
    from kt1.services.access import may_see_envelope
    from kt1.services.custody import load_envelope

    envelope = load_envelope(ctx, number, lock=True)
    if not may_see_envelope(ctx.session, actor, envelope):
        raise UnknownEnvelopeError(number=envelope.number)
    if envelope.status is EnvelopeStatus.DESTROYED:
        raise UsedAfterDestructionError(number=envelope.number)
    if envelope.status not in HELD_STATUSES:
        raise ItemInTransitError(number=envelope.number, status=str(envelope.status))
    if (actor.unit_id != envelope.holder_unit_id or actor.role is not Role.REGISTRY_CLERK
            or not actor.is_active):
        raise ForbiddenError("only the registry of the unit holding the document records a "
                             "decision on its protection")
    return envelope


@dataclass(frozen=True)
class Decision:
    """Who decided, and when (số quyết định, ngày, người có thẩm quyền, chức vụ)."""

    number: str
    decided_by: str
    decided_on: date | None = None
    decided_by_title: str = ""


def _clean_decision(ctx: Ctx, decision: Decision, *, for_destruction: bool = False
                    ) -> Decision:
    number = clean_text(decision.number, "decision_number", 64)
    by = clean_text(decision.decided_by, "decided_by", 120)
    if for_destruction and not (number and by):
        missing = "decision_number" if not number else "decided_by"
        raise DestructionNeedsDecisionError(
            field=missing, missing=missing,
            missing_vi="số quyết định" if not number else "người quyết định")
    if not number:
        raise ValidationError(field="decision_number", reason="required")
    if not by:
        raise ValidationError(field="decided_by", reason="required")
    today = _today(ctx)
    day = decision.decided_on or today
    if day > today:
        raise ValidationError(field="decided_on", reason="must not be in the future")
    return Decision(number=number, decided_by=by, decided_on=day,
                    decided_by_title=clean_text(decision.decided_by_title, "decided_by_title",
                                                120))


def _record(ctx: Ctx, actor: User, envelope: Envelope, kind: EventKind, decision: Decision,
            note: str, **row: object) -> ProtectionDecision:
    """The decision's link (judged by the rulebook, holder unchanged) and its row."""
    from kt1.services.custody import Link, append_link

    holder = envelope.holder_user_id
    handoff: Handoff = append_link(ctx, envelope, Link(
        kind=kind, scan_id=f"life-{uuid.uuid4().hex}", event_at=ctx.now(), recorded_by=actor,
        from_unit_id=envelope.holder_unit_id, from_user_id=holder,
        to_unit_id=envelope.holder_unit_id, to_user_id=holder,
        location=actor.unit.code, ack_user_id=actor.id, ack_method=AckMethod.SELF, note=note))
    ctx.session.flush()
    assert decision.decided_on is not None  # noqa: S101  (_clean_decision sets it)
    found = ProtectionDecision(
        envelope_id=envelope.id, handoff_id=handoff.id, kind=kind,
        decision_number=decision.number, decided_on=decision.decided_on,
        decided_by=decision.decided_by, decided_by_title=decision.decided_by_title,
        previous_until=envelope.protection_until, created_by_id=actor.id,
        created_at=ctx.now(), **row)
    ctx.session.add(found)
    ctx.session.flush()
    return found


def _classified(envelope: Envelope) -> None:
    if envelope.classification is Classification.UNCLASSIFIED:
        raise ValidationError(field="classification",
                              reason="an unclassified item has no protection term")


@transactional
def extend(ctx: Ctx, actor: User, number: str, *, decision_number: str, decided_by: str,
           new_until: date, decided_on: date | None = None, decided_by_title: str = ""
           ) -> ProtectionDecision:
    """Extend a document's protection term (gia hạn, Law 29/2018 Art. 20) to ``new_until``,
    later than its current end (``extension_not_longer``)."""
    decision = _clean_decision(ctx, Decision(decision_number, decided_by, decided_on,
                                             decided_by_title))
    envelope = held_document(ctx, actor, number)
    _classified(envelope)
    if envelope.secrecy is Secrecy.DECLASSIFIED:
        raise AlreadyDeclassifiedError(number=envelope.number)
    current = envelope.protection_until
    if current is not None and new_until <= current:
        raise ExtensionNotLongerError(field="new_until", new_until=new_until.isoformat(),
                                      current=current.isoformat())
    if new_until <= _today(ctx):
        raise ExtensionNotLongerError(field="new_until", new_until=new_until.isoformat(),
                                      current=_today(ctx).isoformat())
    found = _record(ctx, actor, envelope, EventKind.PROTECTION_EXTENDED, decision,
                    life_note(decision=decision.number, until=new_until.isoformat()),
                    new_until=new_until)
    envelope.protection_until = new_until
    return found


@transactional
def declassify(ctx: Ctx, actor: User, number: str, *, decision_number: str, decided_by: str,
               partial: bool = False, scope_note: str = "", decided_on: date | None = None,
               decided_by_title: str = "") -> ProtectionDecision:
    """Declassify a document (giải mật, Law 29/2018 Art. 22), fully or in part (which parts:
    ``scope_note``); a fully declassified one is refused (``already_declassified``)."""
    decision = _clean_decision(ctx, Decision(decision_number, decided_by, decided_on,
                                             decided_by_title))
    scope = clean_text(scope_note, "scope_note", 500)
    if partial and not scope:
        raise ValidationError(field="scope_note", reason="name the parts declassified")
    envelope = held_document(ctx, actor, number)
    _classified(envelope)
    if envelope.secrecy is Secrecy.DECLASSIFIED:
        raise AlreadyDeclassifiedError(number=envelope.number)
    found = _record(ctx, actor, envelope, EventKind.DECLASSIFIED, decision,
                    life_note(decision=decision.number,
                              scope="partial" if partial else "full"),
                    partial=partial, scope_note=scope)
    envelope.secrecy = Secrecy.PARTLY_DECLASSIFIED if partial else Secrecy.DECLASSIFIED
    return found


def council_names(council: list[str] | str) -> list[str]:
    """The council's members, one name each (a text: separated by ``;`` or new lines)."""
    items = council.replace("\n", ";").split(";") if isinstance(council, str) else council
    return [" ".join(name.split()) for name in items if name and name.strip()]


@transactional
def destroy(ctx: Ctx, actor: User, number: str, *, decision_number: str, decided_by: str,
            council_members: list[str] | str, record_number: str,
            destroyed_on: date | None = None, decided_on: date | None = None,
            decided_by_title: str = "") -> ProtectionDecision:
    """Destroy a document (tiêu hủy, Law 29/2018 Art. 23) after the competent person's
    decision, by a council of at least two members who sign a numbered record (biên bản
    tiêu hủy): ``destruction_needs_decision`` otherwise. Its chain ends with this link."""
    decision = _clean_decision(ctx, Decision(decision_number, decided_by, decided_on,
                                             decided_by_title), for_destruction=True)
    members = [clean_text(name, "council_members", 120) for name in
               council_names(council_members)]
    record = clean_text(record_number, "record_number", 64)
    if len(members) < MIN_COUNCIL:
        raise DestructionNeedsDecisionError(
            field="council_members", missing="council_members",
            missing_vi=f"hội đồng tiêu hủy (ít nhất {MIN_COUNCIL} thành viên)")
    if not record:
        raise DestructionNeedsDecisionError(field="record_number", missing="record_number",
                                            missing_vi="số biên bản tiêu hủy")
    today = _today(ctx)
    day = destroyed_on or today
    if day > today:
        raise ValidationError(field="destroyed_on", reason="must not be in the future")
    assert decision.decided_on is not None  # noqa: S101
    if day < decision.decided_on:
        raise ValidationError(field="destroyed_on", reason="before the decision")
    envelope = held_document(ctx, actor, number)
    found = _record(ctx, actor, envelope, EventKind.DESTROYED, decision,
                    life_note(decision=decision.number, record=record,
                              council=len(members), on=day.isoformat()),
                    council_members="\n".join(members), record_number=record)
    envelope.secrecy = Secrecy.DESTROYED
    return found


def decisions(ctx: Ctx, envelope: Envelope) -> list[ProtectionDecision]:
    """The decisions on a document's protection, oldest first."""
    return list(ctx.session.execute(
        select(ProtectionDecision).where(ProtectionDecision.envelope_id == envelope.id)
        .order_by(ProtectionDecision.id)).scalars())


# --------------------------------------------------------------------------- due for review

#: Who sees a unit's "due for review" list: its registry clerks (heads among them) and
#: security officers.
REVIEWERS = (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER)


def due_in_unit(ctx: Ctx, unit_id: int | None, *, within_months: int | None = None,
                today: date | None = None) -> list[Envelope]:
    """Documents held by ``unit_id`` (every unit: None), still protected (not destroyed nor
    fully declassified), whose term ends within ``within_months`` (default the setting
    ``KT1_PROTECTION_REVIEW_MONTHS``) or has ended, soonest first."""
    months = ctx.settings.protection_review_months if within_months is None else within_months
    if not 0 <= months <= 1200:
        raise ValidationError(field="within", reason="between 0 and 1200 months")
    horizon = add_months(today or _today(ctx), months)
    stmt = (select(Envelope).where(
        Envelope.protection_until.is_not(None), Envelope.protection_until <= horizon,
        Envelope.classification != Classification.UNCLASSIFIED,
        Envelope.secrecy.in_([Secrecy.PROTECTED, Secrecy.PARTLY_DECLASSIFIED]),
        Envelope.status.in_(list(HELD_STATUSES)))
        .order_by(Envelope.protection_until, Envelope.number))
    if unit_id is not None:
        stmt = stmt.where(Envelope.holder_unit_id == unit_id)
    return list(ctx.session.execute(stmt).unique().scalars())


def due_for_review(ctx: Ctx, actor: User, within_months: int | None = None,
                   today: date | None = None) -> list[Envelope]:
    """The "due for review" list (sắp hết thời hạn bảo vệ) of the actor's unit: for its
    registry clerks and security officers (``forbidden`` for anyone else)."""
    if actor.role not in REVIEWERS or not actor.is_active:
        raise ForbiddenError()
    return due_in_unit(ctx, actor.unit_id, within_months=within_months, today=today)


def unit_by_code(ctx: Ctx, code: str) -> Unit:
    from kt1.errors import UnknownUnitError

    unit = ctx.session.execute(select(Unit).where(Unit.code == code.strip().upper())).scalar()
    if unit is None:
        raise UnknownUnitError(code=code)
    return unit
