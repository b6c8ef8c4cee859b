"""Scanner devices (thiết bị quét) and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, utcnow
from kt1.models.units import Unit


class Device(Base):
    """A handheld scanner or counter terminal bound to one unit.

    Only the SHA-256 of its token is stored; the token is shown once when issued.
    """

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<Device {self.name} unit={self.unit_id}{' revoked' if self.revoked_at else ''}>"
