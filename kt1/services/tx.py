"""One transaction per use case: commit once, or roll back everything."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from kt1 import metrics
from kt1.errors import CustodyConflictError, DatabaseUnavailableError, KT1Error
from kt1.services.context import Ctx

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def transactional(fn: Callable[Concatenate[Ctx, P], R]) -> Callable[Concatenate[Ctx, P], R]:
    """Run ``fn`` in one transaction.

    A unique-constraint race (the same scan id or the same chain position written by two
    processes at once) is retried once from scratch: the retry then sees the winner and
    either replays its result or refuses with a precise error. A dropped database rolls
    back and reports ``database_unavailable``; nothing is half-written.
    """

    @functools.wraps(fn)
    def wrapper(ctx: Ctx, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in (1, 2):
            try:
                result = fn(ctx, *args, **kwargs)
                ctx.session.commit()
                return result
            except IntegrityError as exc:
                ctx.session.rollback()
                if attempt == 2:
                    raise CustodyConflictError() from exc
            except OperationalError as exc:
                rollback_quietly(ctx.session)
                if _is_lock_conflict(exc) and attempt == 1:
                    continue
                raise DatabaseUnavailableError() from exc
            except BaseException as exc:
                rollback_quietly(ctx.session)
                if isinstance(exc, KT1Error):
                    metrics.count_refusal(exc.slug)
                if is_database_unavailable(exc) and not isinstance(exc, KT1Error):
                    raise DatabaseUnavailableError() from exc
                raise
        raise AssertionError("unreachable")

    return wrapper


def _is_lock_conflict(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in {"40001", "40P01"}  # serialization failure, deadlock


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached (down, restarting, a dropped or
    stale connection, a full pool), as opposed to a refusal or a bug."""
    if isinstance(exc, (DatabaseUnavailableError, OperationalError, InterfaceError,
                        PoolTimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def failure_summary(exc: BaseException) -> str:
    """An unexpected failure for the log, without secrets: the exception's type, SQLSTATE
    and the frames it went through, never its message (a database error's message quotes
    the statement's parameters)."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    kind = type(exc).__name__ + (f"({type(orig).__name__})" if orig is not None else "")
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{kind}{f' sqlstate={sqlstate}' if sqlstate else ''}\n{frames}".rstrip()


def rollback_quietly(session: Session) -> None:
    """Roll back after a failure; a rollback that fails too (a dead connection) is logged,
    and the session is left to be discarded with its connection."""
    try:
        session.rollback()
    except Exception as exc:  # best effort after a failure
        log.warning("rollback failed: %s", failure_summary(exc))
