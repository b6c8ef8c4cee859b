"""Sign-in attempts, kept to throttle password guessing (chống dò mật khẩu), and the
signed-in browser sessions (phiên đăng nhập) that signing out ends on the server."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
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


class WebSession(Base):
    """One signed-in browser session of a user.

    The browser's session cookie carries a random token; only its SHA-256 is kept here, so
    this table signs nobody in. A request is signed in only while its session's row is open:
    signing out sets ``ended_at``, so the same cookie replayed afterwards is refused.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # Shown to the user among their own sessions; never used to decide anything.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:
        return f"<WebSession {self.id} user={self.user_id}{' ended' if self.ended_at else ''}>"
