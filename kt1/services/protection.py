"""Protection terms (thời hạn bảo vệ bí mật nhà nước, docs/domain.md §8): the dated rule
and a document's term as registered.

The rule is data (table ``protection_rule``, one row per classification and
``effective_from``), looked up on the day the classification was decided, as the subject
and provenance rules are, so a new law is a new row and never a code change.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.errors import ValidationError
from kt1.models import ProtectionRule
from kt1.models.enums import Classification


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
    classification date or beyond what the rule allows; writes nothing."""
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
            raise ValidationError(
                field="protection_until",
                reason=f"longer than the {rule.years} years the rule allows"  # type: ignore[union-attr]
                       f" (until {longest.isoformat()})")
        return Term(classified_on=day, until=shorter_until)
    return Term(classified_on=day, until=longest)
