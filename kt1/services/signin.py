"""Signing in with a password, throttled; signing out everywhere."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from kt1.errors import SignInFailedError, SignInThrottledError
from kt1.models import User
from kt1.models.signin import SignInAttempt
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


@transactional
def sign_out_everywhere(ctx: Ctx, user: User) -> None:
    """Invalidate every session of ``user`` (each carries the epoch it was made under)."""
    target = ctx.session.get(User, user.id)
    if target is not None:
        target.session_epoch += 1


def load_session_user(ctx: Ctx, session_id: str) -> User | None:
    """The user of a session id ``"<id>.<epoch>"``, if still active and not signed out."""
    try:
        user_id, epoch = (int(x) for x in session_id.split("."))
    except ValueError:
        return None
    user = ctx.session.get(User, user_id)
    if user is None or not user.is_active or user.session_epoch != epoch:
        return None
    return user
