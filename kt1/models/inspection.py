"""Self-inspection reports (báo cáo tự kiểm tra) and their remediations (khắc phục).

A unit inspects itself for a period (docs/domain.md §8, self-inspection): the checklist of
:mod:`kt1.services.inspection` runs against the unit's data and the report keeps, per
checklist item, how many were found and their numbers (envelope, sheet or incident numbers,
never a subject), with what was fixed since the unit's previous report and what is new. The
head of the unit signs it; after that its items never change. What the report finds is fixed
through a remediation (who fixes it, by when, done when), tracked across reports until it is
closed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, utcnow
from kt1.models.units import Unit, User


class SelfInspection(Base):
    """A self-inspection report (báo cáo tự kiểm tra) of one unit for one period,
    numbered ``TKT-UNIT-YEAR-NNN``."""

    __tablename__ = "self_inspection"
    __table_args__ = (UniqueConstraint("unit_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    seq: Mapped[int]
    period_from: Mapped[date]
    period_to: Mapped[date]
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who ran it; None at the server console (the CLI).
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The unit's report before this one (what was fixed since is counted against it).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("self_inspection.id"))
    #: SHA-256 of the report's content (number, unit, period, run time, items), hex.
    digest: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_name: Mapped[str | None] = mapped_column(String(120))
    signed_title: Mapped[str | None] = mapped_column(String(120))

    unit: Mapped[Unit] = relationship(lazy="joined")
    run_by: Mapped[User | None] = relationship(foreign_keys=[run_by_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    previous: Mapped[SelfInspection | None] = relationship(remote_side=[id])
    items: Mapped[list[SelfInspectionItem]] = relationship(
        back_populates="inspection", order_by="SelfInspectionItem.position")

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def __repr__(self) -> str:
        return f"<SelfInspection {self.number}>"


class SelfInspectionItem(Base):
    """One checklist item of a report: how many, which numbers, fixed and new since the
    unit's previous report."""

    __tablename__ = "self_inspection_item"
    __table_args__ = (UniqueConstraint("inspection_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("self_inspection.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(48))
    count: Mapped[int]
    #: The numbers concerned, in order (envelope numbers, sheet numbers or incident ids).
    numbers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: In the previous report, not in this one; None when there was no previous report.
    fixed: Mapped[list[Any] | None] = mapped_column(JSON)
    #: In this report, not in the previous one; None when there was no previous report.
    new: Mapped[list[Any] | None] = mapped_column(JSON)

    inspection: Mapped[SelfInspection] = relationship(back_populates="items")


class Remediation(Base):
    """What a unit does about a checklist item its report found (khắc phục): opened by the
    report that found it, tracked until closed (done)."""

    __tablename__ = "remediation"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(48))
    opened_in_id: Mapped[int] = mapped_column(ForeignKey("self_inspection.id"), index=True)
    #: Who fixes it: a person of the unit, or a name (a team, someone without an account).
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assignee_name: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[date | None]
    done_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    #: The report in which it was closed: the one whose page marked it done, or the rerun
    #: that found the item clear.
    closed_in_id: Mapped[int | None] = mapped_column(ForeignKey("self_inspection.id"))
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    assignee_user: Mapped[User | None] = relationship(foreign_keys=[assignee_user_id],
                                                      lazy="joined")
    opened_in: Mapped[SelfInspection] = relationship(foreign_keys=[opened_in_id])
    closed_in: Mapped[SelfInspection | None] = relationship(foreign_keys=[closed_in_id])

    @property
    def is_open(self) -> bool:
        return self.closed_in_id is None

    @property
    def assignee(self) -> str:
        """Who fixes it, as printed."""
        if self.assignee_user is not None:
            return self.assignee_user.full_name
        return self.assignee_name or ""
