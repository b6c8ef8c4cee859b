"""Handover records (biên bản bàn giao): custody handed over when a person leaves or moves.

When a person leaves the unit or moves to another one (thôi việc, chuyển công tác), whatever
they hold (envelopes, bags, open handover sheets) goes to a colleague of the same unit and
role family, who acknowledges by PIN or staff badge. The record lists what was handed over
(numbers and marks only, never a subject) and is printed for both sides and the head of the
unit to sign. Each envelope also gets its ``handed_over`` link in the custody chain.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.bags import Bag
from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.custody import Handoff
from kt1.models.enums import AckMethod
from kt1.models.envelopes import Envelope
from kt1.models.handover import HandoverSheet
from kt1.models.units import Unit, User


class RecordItemKind(StrEnum):
    ENVELOPE = "envelope"  # bưu gửi
    BAG = "bag"  # túi thư
    SHEET = "sheet"  # bảng kê giao chưa ký nhận


class HandoverRecord(Base):
    """A handover record (biên bản bàn giao) from a leaving person to a colleague."""

    __tablename__ = "handover_record"
    __table_args__ = (UniqueConstraint("unit_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    seq: Mapped[int]
    giver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The administrator who recorded it; None at the server console (the CLI).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ack_method: Mapped[AckMethod] = mapped_column(StrEnumType(AckMethod))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    giver: Mapped[User] = relationship(foreign_keys=[giver_id], lazy="joined")
    receiver: Mapped[User] = relationship(foreign_keys=[receiver_id], lazy="joined")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    items: Mapped[list[HandoverRecordItem]] = relationship(
        back_populates="record", order_by="HandoverRecordItem.line_no")

    def __repr__(self) -> str:
        return f"<HandoverRecord {self.number}>"


class HandoverRecordItem(Base):
    """One item of a handover record: an envelope (with the bag it is in, and its link), a
    bag, or an open handover sheet."""

    __tablename__ = "handover_record_item"
    __table_args__ = (UniqueConstraint("record_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("handover_record.id"))
    line_no: Mapped[int]
    kind: Mapped[RecordItemKind] = mapped_column(StrEnumType(RecordItemKind))
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelope.id"), index=True)
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("bag.id"))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("handover_sheet.id"))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id"))

    record: Mapped[HandoverRecord] = relationship(back_populates="items")
    envelope: Mapped[Envelope | None] = relationship(lazy="joined")
    bag: Mapped[Bag | None] = relationship()
    sheet: Mapped[HandoverSheet | None] = relationship()
    handoff: Mapped[Handoff | None] = relationship()
