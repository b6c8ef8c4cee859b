"""Handover sheets (bảng kê giao bưu gửi): the agency-to-post book.

A registry clerk lists the envelopes she takes to the KT1 post office on a numbered sheet
and prints it; the counter clerk reconciles what is handed over against the sheet, then
signs (each accepted envelope gets its ``accepted`` link in the custody chain, which names
the sheet). The sheet itself moves no envelope: it is the expected list, kept so that the
counter can compare and the book can be printed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.envelopes import Envelope
from kt1.models.units import Unit, User


class SheetStatus(StrEnum):
    OPEN = "open"  # printed, waiting at the counter
    SIGNED = "signed"  # reconciled and signed for by the counter clerk
    CANCELLED = "cancelled"  # withdrawn by the agency before the handover


class HandoverSheet(Base):
    """A handover sheet (bảng kê giao) from an agency's registry clerk to a post office."""

    __tablename__ = "handover_sheet"
    __table_args__ = (UniqueConstraint("unit_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    seq: Mapped[int]
    post_office_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[SheetStatus] = mapped_column(StrEnumType(SheetStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None]
    #: The latest discrepancy report (biên bản sai lệch) made while reconciling this sheet.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    post_office: Mapped[Unit] = relationship(foreign_keys=[post_office_id], lazy="joined")
    giver: Mapped[User] = relationship(foreign_keys=[giver_id], lazy="joined")
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    lines: Mapped[list[HandoverLine]] = relationship(
        back_populates="sheet", order_by="HandoverLine.line_no")

    def __repr__(self) -> str:
        return f"<HandoverSheet {self.number} {self.status}>"


class HandoverLine(Base):
    """One envelope listed on a handover sheet; ``accepted_at`` once the counter signed."""

    __tablename__ = "handover_line"
    __table_args__ = (
        UniqueConstraint("sheet_id", "envelope_id"),
        UniqueConstraint("sheet_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("handover_sheet.id"))
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id"), index=True)
    line_no: Mapped[int]
    accepted_at: Mapped[datetime | None]

    sheet: Mapped[HandoverSheet] = relationship(back_populates="lines")
    envelope: Mapped[Envelope] = relationship(lazy="joined")
