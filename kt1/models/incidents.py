"""Incidents (sự cố): seal anomalies, discrepancies, loss and damage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import IncidentKind, IncidentStatus


class Incident(Base):
    """An incident report (biên bản sự cố), in the inbox of the heads of the units involved and
    of the sending unit's security officers until one of them acknowledges it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(StrEnumType(IncidentKind))
    status: Mapped[IncidentStatus] = mapped_column(
        StrEnumType(IncidentStatus), default=IncidentStatus.OPEN, index=True)
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelope.id"), index=True)
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("bag.id"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    report: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Marked when a head of a unit involved (head) or someone of the sending unit (sender)
    # first opens the incident in their inbox, and by whom; acknowledged when one of the
    # recipients presses "đã nắm" (kt1/services/incidents.py).
    head_notified_at: Mapped[datetime | None]
    head_notified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sender_notified_at: Mapped[datetime | None]
    sender_notified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.kind} {self.status}>"
