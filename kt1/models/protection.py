"""The end of a secret's life and its copies (docs/domain.md §8): the dated protection-term
rule, the decisions on a document's protection, and who may allow copies in a unit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import Classification, EventKind
from kt1.models.units import User


class ProtectionRule(Base):
    """Dated rule: the longest protection term (thời hạn bảo vệ) of a classification,
    counted from the day the classification was decided, for documents classified from
    ``effective_from`` on (Law 29/2018 Art. 19; Law 117/2025 from 01/03/2026). Data, never
    constants: a new law is a new row."""

    __tablename__ = "protection_rule"
    __table_args__ = (UniqueConstraint("effective_from", "classification"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date]
    classification: Mapped[Classification] = mapped_column(StrEnumType(Classification))
    years: Mapped[int]
    source: Mapped[str] = mapped_column(String(200), default="")


class ProtectionDecision(Base):
    """A decision on a document's protection, recorded with the link it put in the chain:
    an extension (gia hạn, the new end), a declassification (giải mật, full or partial) or
    a destruction (tiêu hủy: the council's members and its record number)."""

    __tablename__ = "protection_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id"))
    kind: Mapped[EventKind] = mapped_column(StrEnumType(EventKind))
    decision_number: Mapped[str] = mapped_column(String(64))  # số quyết định
    decided_on: Mapped[date]
    decided_by: Mapped[str] = mapped_column(String(120))  # người có thẩm quyền quyết định
    decided_by_title: Mapped[str] = mapped_column(String(120), default="")
    previous_until: Mapped[date | None]
    new_until: Mapped[date | None]  # extension
    partial: Mapped[bool] = mapped_column(default=False)  # declassification in part
    scope_note: Mapped[str] = mapped_column(String(500), default="")  # which parts
    council_members: Mapped[str] = mapped_column(Text, default="")  # one name per line
    record_number: Mapped[str | None] = mapped_column(String(64))  # biên bản tiêu hủy
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<ProtectionDecision env={self.envelope_id} {self.kind}>"


class CopyApprover(Base):
    """A person a unit entitled to allow copies (người có thẩm quyền cho phép sao, chụp).
    A unit with no row: its heads of unit."""

    __tablename__ = "copy_approver"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
