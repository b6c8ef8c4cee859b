"""Dated deadline rules, extra days off, and signed checkpoints of the custody log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import Route, ServiceClass


class DeadlineRuleSet(Base):
    """A set of time limits (chỉ tiêu thời gian toàn trình) in force from ``effective_from``.

    The set in force on an envelope's acceptance date (Vietnam time) decides its deadline,
    so a later set never changes the verdict on an envelope accepted earlier. A set that is
    already in force is never edited: an administrator adds a new one with a later date.
    """

    __tablename__ = "deadline_rule_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    rules: Mapped[list[DeadlineRule]] = relationship(
        back_populates="rule_set", order_by="DeadlineRule.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<DeadlineRuleSet {self.effective_from} {self.name!r}>"


class DeadlineRule(Base):
    """One time limit: ``working_days`` from acceptance (J) to the first delivery attempt."""

    __tablename__ = "deadline_rule"
    __table_args__ = (UniqueConstraint("rule_set_id", "route", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("deadline_rule_set.id"))
    route: Mapped[Route] = mapped_column(StrEnumType(Route))
    service: Mapped[ServiceClass] = mapped_column(StrEnumType(ServiceClass))
    # Binary fractions such as 1.5 and 2.5 are exact in a float.
    working_days: Mapped[float] = mapped_column(Float)

    rule_set: Mapped[DeadlineRuleSet] = relationship(back_populates="rules")

    def __repr__(self) -> str:
        return f"<DeadlineRule {self.route} {self.service} J+{self.working_days:g}>"


class DayOff(Base):
    """An extra day off (ngày nghỉ bổ sung) added by an administrator to the working calendar.

    Public holidays, lunar ones included, come from the ``holidays`` package; this table
    holds what it cannot know (a typhoon closure, a day off decided by the government late).
    """

    __tablename__ = "day_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<DayOff {self.day}>"


class Installation(Base):
    """This installation's identity, created once by the migration (one row).

    Its id is signed into every checkpoint, so a checkpoint file from another installation
    is told apart from one of ours even if both used the same key.
    """

    __tablename__ = "installation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Checkpoint(Base):
    """A signed Merkle root over every handoff hash so far (RFC 6962 tree, Ed25519 signature).

    Rows are append-only (database triggers). ``tree_size`` leaves are the first handoffs in
    id order; ``last_handoff_id`` is the id of the last of them.
    """

    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(36))
    tree_size: Mapped[int]
    last_handoff_id: Mapped[int | None]
    root_hash: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<Checkpoint #{self.id} size={self.tree_size}>"
