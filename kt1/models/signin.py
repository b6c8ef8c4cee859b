"""Sign-in attempts, kept to throttle password guessing (chống dò mật khẩu)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kt1.models.base import Base, utcnow


class SignInAttempt(Base):
    """One sign-in attempt: who was tried, from where, when, and whether it succeeded."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    is_success: Mapped[bool] = mapped_column(default=False)
