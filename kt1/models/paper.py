"""Internal handover sheets (phiếu chuyển giao nội bộ) and the record of every sheet print.

Inside an agency, whoever holds envelopes may list them on a numbered sheet for a named
receiver of the same unit and print it. The receiver signs the paper; then the unit marks it
signed in the system (the sheet's barcode is scanned, then each line is ticked or scanned).
Only such a sheet, printed by this system, signed and ticked for the envelope, makes a paper
receipt (``method=paper``) valid for a handoff other than an acceptance (docs/access.md,
"both sides present"; docs/rules.md, rule A8). Like the post-office sheet, it moves no
envelope by itself.

Every print of a sheet, post-office or internal, is kept in ``sheet_print``: who printed it,
when, and the item numbers its lines listed at that moment.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.envelopes import Envelope
from kt1.models.handover import SheetStatus
from kt1.models.units import Unit, User


class SheetKind(StrEnum):
    POST_OFFICE = "post_office"  # bảng kê giao (agency to a KT1 post office)
    INTERNAL = "internal"  # phiếu chuyển giao nội bộ (within one unit)


class InternalSheet(Base):
    """A sheet listing envelopes the giver holds, for a named receiver of the same unit."""

    __tablename__ = "internal_sheet"
    __table_args__ = (UniqueConstraint("unit_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    seq: Mapped[int]
    giver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: open: printed or not, waiting for the signature; signed: marked signed by the unit
    status: Mapped[SheetStatus] = mapped_column(StrEnumType(SheetStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    giver: Mapped[User] = relationship(foreign_keys=[giver_id], lazy="joined")
    receiver: Mapped[User] = relationship(foreign_keys=[receiver_id], lazy="joined")
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    lines: Mapped[list[InternalLine]] = relationship(
        back_populates="sheet", order_by="InternalLine.line_no")

    def __repr__(self) -> str:
        return f"<InternalSheet {self.number} {self.status}>"


class InternalLine(Base):
    """One envelope on an internal sheet; ``ticked_at`` once the unit ticked or scanned it
    as signed for."""

    __tablename__ = "internal_line"
    __table_args__ = (
        UniqueConstraint("sheet_id", "envelope_id"),
        UniqueConstraint("sheet_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("internal_sheet.id"))
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id"), index=True)
    line_no: Mapped[int]
    ticked_at: Mapped[datetime | None]
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    sheet: Mapped[InternalSheet] = relationship(back_populates="lines")
    envelope: Mapped[Envelope] = relationship(lazy="joined")


class SheetPrint(Base):
    """One print of a sheet: who, when, and the item numbers of its lines at that moment."""

    __tablename__ = "sheet_print"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SheetKind] = mapped_column(StrEnumType(SheetKind))
    sheet_number: Mapped[str] = mapped_column(String(48), index=True)
    handover_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("handover_sheet.id"))
    internal_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("internal_sheet.id"))
    printed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the item numbers listed, in line order
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)

    printed_by: Mapped[User] = relationship(lazy="joined")
