"""Envelopes (bưu gửi KT1), number counters and the dated subject rule."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import (
    Classification,
    CopyMethod,
    EnvelopeStatus,
    Route,
    Secrecy,
    ServiceClass,
    SubjectPolicy,
    Urgency,
)
from kt1.models.units import Unit, User

GENESIS_HASH = "0" * 64


class Envelope(Base):
    """A KT1 item (bưu gửi KT1) carrying a secret document, tracked by its S10 number.

    The subject (trích yếu) is only ever held encrypted in ``subject_ciphertext`` and is
    read through :func:`kt1.services.subjects.read_subject`, never by a repr or a log.
    """

    __tablename__ = "envelope"
    __table_args__ = (
        UniqueConstraint("sender_unit_id", "register_year", "register_seq"),
        UniqueConstraint("recipient_unit_id", "incoming_year", "incoming_seq"),
        Index("uq_envelope_copy_no", "copy_of_id", "copy_no", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(13), unique=True)
    classification: Mapped[Classification] = mapped_column(StrEnumType(Classification))
    mark: Mapped[str | None] = mapped_column(String(1))
    layers: Mapped[int]
    service: Mapped[ServiceClass] = mapped_column(StrEnumType(ServiceClass))
    agreed_at: Mapped[datetime | None]
    route: Mapped[Route] = mapped_column(StrEnumType(Route))
    urgency: Mapped[Urgency] = mapped_column(StrEnumType(Urgency), default=Urgency.NORMAL)
    sender_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    recipient_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_addressee_only: Mapped[bool] = mapped_column(default=False)
    document_number: Mapped[str] = mapped_column(String(64))
    document_date: Mapped[date | None]
    copies: Mapped[int] = mapped_column(default=1)
    recall_by: Mapped[date | None]
    register_year: Mapped[int]
    register_seq: Mapped[int]
    incoming_year: Mapped[int | None]
    incoming_seq: Mapped[int | None]
    subject_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject_approved_by: Mapped[str | None] = mapped_column(String(120))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Who drafted and signed the document and why it is secret (docs/domain.md §8,
    # classification basis): sealed into the first link when set (kt1/services/chain.py).
    drafter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    drafter_name: Mapped[str | None] = mapped_column(String(120))
    signer_name: Mapped[str | None] = mapped_column(String(120))
    signer_title: Mapped[str | None] = mapped_column(String(120))
    classification_basis: Mapped[str | None] = mapped_column(String(500))

    # A copy (bản sao: sao, chụp) of another registered document (docs/domain.md §8): its
    # own item with its own chain, "Bản số copy_no/copy_total", made with the approval of a
    # person entitled to allow it, numbered in the unit's copy register (sổ quản lý sao,
    # chụp). Sealed into the first link when set (kt1/services/chain.py).
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("envelope.id"), index=True)
    copy_no: Mapped[int | None]
    copy_total: Mapped[int | None]
    copy_method: Mapped[CopyMethod | None] = mapped_column(StrEnumType(CopyMethod))
    copy_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    copy_approved_on: Mapped[date | None]
    copy_register_year: Mapped[int | None]
    copy_register_seq: Mapped[int | None]
    #: "Không được sao chụp": the document refuses copies.
    copy_forbidden: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Protection term (thời hạn bảo vệ, docs/domain.md §8): counted from the day the
    # classification was decided; ``protection_until`` is the current end (moved by an
    # extension). None where it is not known (flagged by verify, protection_term_missing).
    classified_on: Mapped[date | None]
    protection_until: Mapped[date | None] = mapped_column(index=True)
    secrecy: Mapped[Secrecy] = mapped_column(
        StrEnumType(Secrecy), default=Secrecy.PROTECTED, server_default=Secrecy.PROTECTED.value)

    # Current state, kept in step with the custody chain in the same transaction.
    status: Mapped[EnvelopeStatus] = mapped_column(StrEnumType(EnvelopeStatus), index=True)
    holder_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    holder_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("bag.id"), index=True)
    chain_length: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    last_event_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]

    sender_unit: Mapped[Unit] = relationship(foreign_keys=[sender_unit_id], lazy="joined")
    recipient_unit: Mapped[Unit] = relationship(foreign_keys=[recipient_unit_id], lazy="joined")
    holder_unit: Mapped[Unit] = relationship(foreign_keys=[holder_unit_id], lazy="joined")
    holder_user: Mapped[User | None] = relationship(foreign_keys=[holder_user_id], lazy="joined")
    recipient_user: Mapped[User | None] = relationship(foreign_keys=[recipient_user_id])
    drafter_user: Mapped[User | None] = relationship(foreign_keys=[drafter_user_id])
    copy_approved_by: Mapped[User | None] = relationship(foreign_keys=[copy_approved_by_id])
    copy_of: Mapped[Envelope | None] = relationship(
        foreign_keys=[copy_of_id], remote_side=[id])

    @property
    def is_copy(self) -> bool:
        return self.copy_of_id is not None

    @property
    def copy_label(self) -> str | None:
        """"Bản số n/N" as printed on a copy's label and stamp, None for an original."""
        if self.copy_no is None:
            return None
        return f"Bản số {self.copy_no}/{self.copy_total}"

    @property
    def has_subject(self) -> bool:
        return self.subject_ciphertext is not None

    @property
    def register_number(self) -> str:
        """Outgoing-register number as written on the label, e.g. ``2026/000123``."""
        return f"{self.register_year}/{self.register_seq:06d}"

    def __repr__(self) -> str:
        return f"<Envelope {self.number} {self.mark or '-'} {self.status}>"


class Counter(Base):
    """A named counter (S10 serials, register numbers) incremented under a row lock."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class SubjectRule(Base):
    """Dated rule 14: may a subject be recorded for this classification from this date on."""

    __tablename__ = "subject_rule"
    __table_args__ = (UniqueConstraint("effective_from", "classification"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date]
    classification: Mapped[Classification] = mapped_column(StrEnumType(Classification))
    policy: Mapped[SubjectPolicy] = mapped_column(StrEnumType(SubjectPolicy))
    source: Mapped[str] = mapped_column(String(200), default="")


class ProvenanceRule(Base):
    """Dated rule: which of the drafter (người soạn thảo), the signer (người ký, chức vụ)
    and the classification basis (căn cứ xác định độ mật, the clause and article of the
    sector's list of state secrets) a registration must record for this classification
    from this date on (docs/domain.md §8, classification basis)."""

    __tablename__ = "provenance_rule"
    __table_args__ = (UniqueConstraint("effective_from", "classification"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date]
    classification: Mapped[Classification] = mapped_column(StrEnumType(Classification))
    drafter_required: Mapped[bool] = mapped_column(default=False)
    signer_required: Mapped[bool] = mapped_column(default=False)
    basis_required: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(200), default="")
