"""Who drafted the document, who signed it and why it is secret (docs/domain.md §8,
classification basis): the dated rule that says which of them a registration records, and
the cleaning of what the clerk typed.

The rule is data (table ``provenance_rule``, one row per classification and
``effective_from``), looked up on the registration date as the subject rule is
(:func:`kt1.services.subjects.subject_policy`), so the requirement can change without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.errors import KT1Error, ProvenanceRequiredError, ValidationError
from kt1.models import ProvenanceRule, User
from kt1.models.enums import Classification
from kt1.services.text import clean_text

NAME_LENGTH = 120
BASIS_LENGTH = 500

#: Each field a rule may require: its label in the refusal (Vietnamese, English).
LABELS = {
    "drafter": ("người soạn thảo", "drafter"),
    "signer_name": ("người ký", "signer"),
    "signer_title": ("chức vụ người ký", "signer's title"),
    "classification_basis": ("căn cứ xác định độ mật (điều, khoản của Danh mục bí mật nhà "
                             "nước)", "classification basis"),
}


@dataclass(frozen=True)
class ProvenancePolicy:
    """What a registration must record for one classification on one day."""

    drafter: bool = False
    signer: bool = False
    basis: bool = False


def provenance_policy(session: Session, classification: Classification, on: date
                      ) -> ProvenancePolicy:
    """The rule in force on ``on`` for ``classification``; nothing required when no rule
    covers it."""
    row = session.execute(
        select(ProvenanceRule)
        .where(ProvenanceRule.classification == classification,
               ProvenanceRule.effective_from <= on)
        .order_by(ProvenanceRule.effective_from.desc())
        .limit(1)
    ).scalar()
    if row is None:
        return ProvenancePolicy()
    return ProvenancePolicy(drafter=row.drafter_required, signer=row.signer_required,
                            basis=row.basis_required)


@dataclass(frozen=True)
class Provenance:
    """The cleaned values, as the envelope stores them (None when not given)."""

    drafter_user: User | None = None
    drafter_name: str | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    classification_basis: str | None = None


def _missing(field: str, classification: Classification) -> KT1Error:
    vi, en = LABELS[field]
    return ProvenanceRequiredError(field=field, label=vi, label_en=en,
                                   classification=classification.label_vi)


def clean_provenance(session: Session, sender: User, classification: Classification,
                     on: date, *, drafter_username: str | None, drafter_name: str | None,
                     signer_name: str | None, signer_title: str | None,
                     classification_basis: str | None) -> Provenance:
    """Clean what was typed and check it against the rule in force on ``on``.

    The drafter is a user of the sender's unit (by username; their name is recorded unless
    another is typed) or a free name. Raises ``provenance_required`` naming the first
    missing field, or ``invalid_field``; writes nothing.
    """
    username = clean_text(drafter_username, "drafter_username", 64).lower() or None
    name = clean_text(drafter_name, "drafter_name", NAME_LENGTH) or None
    signer = clean_text(signer_name, "signer_name", NAME_LENGTH) or None
    title = clean_text(signer_title, "signer_title", NAME_LENGTH) or None
    basis = clean_text(classification_basis, "classification_basis", BASIS_LENGTH) or None
    user = None
    if username:
        user = session.execute(select(User).where(User.username == username)
                               ).unique().scalar_one_or_none()
        if user is None:
            raise ValidationError(field="drafter_username", reason="no such user")
        if user.unit_id != sender.unit_id:
            raise ValidationError(field="drafter_username", reason="not in the sender unit")
        if not user.is_active:
            raise ValidationError(field="drafter_username", reason="account deactivated")
        name = name or user.full_name
    policy = provenance_policy(session, classification, on)
    if policy.drafter and not name:
        raise _missing("drafter", classification)
    if policy.signer and not signer:
        raise _missing("signer_name", classification)
    if policy.signer and not title:
        raise _missing("signer_title", classification)
    if policy.basis and not basis:
        raise _missing("classification_basis", classification)
    if title and not signer:
        raise ValidationError(field="signer_name", reason="a title needs the signer's name")
    return Provenance(drafter_user=user, drafter_name=name, signer_name=signer,
                      signer_title=title, classification_basis=basis)
