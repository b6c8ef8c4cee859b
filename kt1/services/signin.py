"""Signing in with a password, throttled; the server-side sessions that signing out ends."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text, update

from kt1.errors import SignInFailedError, SignInThrottledError
from kt1.models import User
from kt1.models.signin import SignInAttempt, WebSession
from kt1.services.access import check_secret
from kt1.services.context import Ctx
from kt1.services.tx import transactional

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
#: First key of the PostgreSQL advisory lock taken per username while an attempt is judged
#: (the second key is the name's hash); "KT" + 1, so it names this use in pg_locks.
SIGN_IN_LOCK = 0x4B5401


@transactional
def sign_in(ctx: Ctx, username: str, password: str, remote_addr: str = "") -> User:
    """Check a username and password; after 5 failures in 15 minutes the name is locked.

    Every attempt is recorded (the password never is). The same error is given for an
    unknown user and a wrong password, so names cannot be probed.

    Attempts on one name are judged one at a time, so that simultaneous attempts cannot
    all count the same 4 failures: at most 5 passwords are ever checked in the window, and
    every attempt after them is throttled without its password being checked.
    """
    name = (username or "").strip().lower()[:64]
    _lock_name(ctx, name)
    now = ctx.now()
    failures = ctx.session.execute(
        select(func.count(SignInAttempt.id)).where(
            SignInAttempt.username == name, SignInAttempt.is_success.is_(False),
            SignInAttempt.at > now - WINDOW)).scalar_one()
    if failures >= MAX_FAILURES:
        raise SignInThrottledError(minutes=int(WINDOW.total_seconds() // 60))
    user = ctx.session.execute(select(User).where(User.username == name)).unique() \
        .scalar_one_or_none()
    ok = bool(user and user.is_active and check_secret(user.password_hash, password))
    ctx.session.add(SignInAttempt(username=name, remote_addr=remote_addr[:64], at=now,
                                  is_success=ok))
    if not ok or user is None:
        ctx.session.commit()  # the failure is recorded even though we refuse
        raise SignInFailedError()
    return user


def _lock_name(ctx: Ctx, name: str) -> None:
    """Hold ``name`` until this transaction ends (the failure is committed before refusing).

    PostgreSQL: a transaction-scoped advisory lock on the name's hash (another name sharing
    the hash only waits a little). SQLite: nothing to do, every transaction starts with
    ``BEGIN IMMEDIATE`` (:mod:`kt1.database`), which already serialises them.
    """
    if ctx.session.get_bind().dialect.name == "postgresql":
        ctx.session.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(:name))"),
                            {"key": SIGN_IN_LOCK, "name": name})


def session_digest(token: str) -> str:
    """Session tokens are 256-bit random strings, so one SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionLimits:
    """How long a signed-in session lasts on the server.

    ``idle``: ended after this long without a request; ``absolute``: ended this long after
    signing in, however busy (a stolen cookie cannot be kept alive by replaying it).
    """

    idle: timedelta = timedelta(hours=2)
    absolute: timedelta = timedelta(hours=12)


#: ``last_seen_at`` is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


@transactional
def start_session(ctx: Ctx, user: User, user_agent: str = "", remote_addr: str = "") -> str:
    """Open a session for ``user`` (just signed in); returns its token, for the cookie only."""
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    ctx.session.add(WebSession(token_hash=session_digest(token), user_id=user.id,
                               created_at=now, last_seen_at=now,
                               user_agent=(user_agent or "")[:200],
                               remote_addr=(remote_addr or "")[:64]))
    return token


@transactional
def end_session(ctx: Ctx, token: str | None) -> None:
    """Sign out: end this one session on the server; the user's other sessions go on."""
    if token:
        ctx.session.execute(
            update(WebSession)
            .where(WebSession.token_hash == session_digest(token), WebSession.ended_at.is_(None))
            .values(ended_at=ctx.now()))


@transactional
def sign_out_everywhere(ctx: Ctx, user: User) -> None:
    """End every session of ``user``, in every browser.

    Every open session row is ended, and the user's epoch moves on (each cookie also carries
    the epoch it was made under; administrators move it too, see ``kt1.services.directory``).
    """
    target = ctx.session.get(User, user.id)
    if target is not None:
        target.session_epoch += 1
    ctx.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=ctx.now()))


def load_session_user(ctx: Ctx, session_id: str, token: str | None,
                      limits: SessionLimits = SessionLimits()) -> User | None:
    """The user of a request's session, or None (signed out).

    ``session_id`` is ``"<user id>.<epoch>"`` and ``token`` the session's token, both from
    the signed cookie. The session must be open on the server (not signed out, not idle
    longer than ``limits.idle``, not older than ``limits.absolute``), belong to that user,
    and the user must be active and not signed out everywhere since.
    """
    try:
        user_id, epoch = (int(x) for x in session_id.split("."))
    except ValueError:
        return None
    if not token:
        return None
    row = ctx.session.execute(
        select(WebSession).where(WebSession.token_hash == session_digest(token))
    ).scalar_one_or_none()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    now = ctx.now()
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.absolute:
        _end_session_row(ctx, row.id)
        return None
    user = ctx.session.get(User, user_id)
    if user is None or not user.is_active or user.session_epoch != epoch:
        # Deactivated, or its password reset, since: the session is over for good.
        _end_session_row(ctx, row.id)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        _touch(ctx, row.id)
    return user


def open_sessions(ctx: Ctx, user: User, limits: SessionLimits = SessionLimits()
                  ) -> list[WebSession]:
    """The user's sessions still open, the most recently used first (for their own view)."""
    now = ctx.now()
    return list(ctx.session.execute(
        select(WebSession).where(
            WebSession.user_id == user.id, WebSession.ended_at.is_(None),
            WebSession.last_seen_at >= now - limits.idle,
            WebSession.created_at >= now - limits.absolute)
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())).scalars())


@transactional
def _touch(ctx: Ctx, session_row: int) -> None:
    ctx.session.execute(update(WebSession).where(WebSession.id == session_row)
                        .values(last_seen_at=ctx.now()))


@transactional
def _end_session_row(ctx: Ctx, session_row: int) -> None:
    ctx.session.execute(update(WebSession).where(WebSession.id == session_row,
                                                 WebSession.ended_at.is_(None))
                        .values(ended_at=ctx.now()))
