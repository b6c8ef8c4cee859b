"""Units (agencies and KT1 post offices) and their users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.enums import Role, UnitKind

#: Which KT1 post offices serve which agency (bưu cục KT1 phục vụ cơ quan): a post office
#: accepts envelopes only from the agencies it serves (docs/rules.md, custody rule 1).
serving_office = Table(
    "serving_office",
    Base.metadata,
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
    Column("post_office_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Unit(Base):
    """A unit (đơn vị): an agency (cơ quan) or a KT1 post office (bưu cục KT1)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(StrEnumType(UnitKind))
    province_code: Mapped[str] = mapped_column(String(8))
    province_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    parent_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A deactivated unit takes no new users, devices or envelopes (migration 0015a).
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    users: Mapped[list[User]] = relationship(back_populates="unit")
    #: For an agency: the KT1 post offices that serve it (accept its envelopes).
    serving_offices: Mapped[list[Unit]] = relationship(
        secondary=serving_office,
        primaryjoin=lambda: Unit.id == serving_office.c.unit_id,
        secondaryjoin=lambda: Unit.id == serving_office.c.post_office_id,
        order_by=lambda: Unit.code,
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.kind}>"


class User(Base):
    """A person with one role in one unit."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    pin_hash: Mapped[str | None] = mapped_column(String(256))
    badge_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_unit_head: Mapped[bool] = mapped_column(default=False)
    # Optional: incident notices are also emailed here when SMTP is configured.
    email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by "sign out everywhere": every session carrying an older value is refused.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit] = relationship(back_populates="users", lazy="joined")

    # The user-session protocol Flask-Login expects (no import of Flask here).
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
