"""Custody handoffs (giao nhận) and the scans that produced them. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import (
    AckMethod,
    Authority,
    DeliveryFailure,
    EventKind,
    SealState,
)
from kt1.models.units import Unit, User


class Handoff(Base):
    """One link of an envelope's custody chain (một lần giao nhận, Sổ chuyển giao).

    Rows are never updated or deleted. ``hash`` is SHA-256 over ``prev_hash`` and the
    canonical content (see :mod:`kt1.services.chain`), so an edit, a deletion or a reorder
    breaks the chain. A bag event writes one row per envelope in the bag, all with the
    same ``scan_id`` and ``bag_id``.
    """

    __tablename__ = "handoff"
    __table_args__ = (
        UniqueConstraint("envelope_id", "seq"),
        UniqueConstraint("scan_id", "envelope_id"),
        Index("ix_handoff_recorded_at", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id"))
    seq: Mapped[int]
    kind: Mapped[EventKind] = mapped_column(StrEnumType(EventKind))
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("bag.id"), index=True)
    scan_id: Mapped[str] = mapped_column(String(64))
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    event_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    seal_state: Mapped[SealState] = mapped_column(
        StrEnumType(SealState), default=SealState.NOT_APPLICABLE)
    seal_number: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(default=1)
    ack_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ack_method: Mapped[AckMethod | None] = mapped_column(StrEnumType(AckMethod))
    ack_reference: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[DeliveryFailure | None] = mapped_column(StrEnumType(DeliveryFailure))
    authority: Mapped[Authority | None] = mapped_column(StrEnumType(Authority))
    note: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    from_unit: Mapped[Unit | None] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit] = relationship(foreign_keys=[to_unit_id])
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    ack_user: Mapped[User | None] = relationship(foreign_keys=[ack_user_id])

    def __repr__(self) -> str:
        return f"<Handoff env={self.envelope_id} #{self.seq} {self.kind}>"


class Scan(Base):
    """A device scan id seen once: replaying it returns the stored result (idempotency)."""

    __tablename__ = "scan"

    scan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("bag.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
