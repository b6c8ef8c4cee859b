"""Bags (túi thư) and their manifests (bảng kê)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import BagStatus
from kt1.models.units import Unit, User


class Bag(Base):
    """A bag (túi thư) made up at a KT1 post office, sealed for the whole trip."""

    __tablename__ = "bag"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    origin_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    destination_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[BagStatus] = mapped_column(StrEnumType(BagStatus), default=BagStatus.OPEN)
    seal_number: Mapped[str | None] = mapped_column(String(64))
    sealed_at: Mapped[datetime | None]
    tracker_id: Mapped[str | None] = mapped_column(String(64))
    vehicle: Mapped[str | None] = mapped_column(String(64))
    is_dedicated_vehicle: Mapped[bool | None]
    escort_name: Mapped[str | None] = mapped_column(String(120))
    holder_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    holder_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_event_at: Mapped[datetime | None]

    origin_unit: Mapped[Unit] = relationship(foreign_keys=[origin_unit_id], lazy="joined")
    destination_unit: Mapped[Unit] = relationship(
        foreign_keys=[destination_unit_id], lazy="joined")
    holder_user: Mapped[User | None] = relationship(foreign_keys=[holder_user_id])
    #: The manifest: the lines of the envelopes in the bag (not those taken out again).
    lines: Mapped[list[ManifestLine]] = relationship(
        primaryjoin="and_(Bag.id == ManifestLine.bag_id, ManifestLine.removed_at.is_(None))",
        order_by="ManifestLine.line_no", viewonly=True)
    #: Every line ever written, those taken out of the open bag too (``removed_at``).
    all_lines: Mapped[list[ManifestLine]] = relationship(
        back_populates="bag", order_by="ManifestLine.line_no")

    def __repr__(self) -> str:
        return f"<Bag {self.number} {self.status}>"


class ManifestLine(Base):
    """One envelope listed on a bag's manifest (dòng bảng kê)."""

    __tablename__ = "manifest_line"
    __table_args__ = (
        UniqueConstraint("bag_id", "envelope_id"),
        UniqueConstraint("bag_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bag_id: Mapped[int] = mapped_column(ForeignKey("bag.id"))
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id"), index=True)
    line_no: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    found_at_opening: Mapped[bool | None]
    #: Taken out of the bag while it was open (the ``unbagged`` link says by whom and why);
    #: the line stays, so the earlier ``bagged`` link still finds the bag's manifest.
    removed_at: Mapped[datetime | None]

    bag: Mapped[Bag] = relationship(back_populates="all_lines")
