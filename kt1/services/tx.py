"""One transaction per use case: commit once, or roll back everything."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from kt1.errors import CustodyConflictError, DatabaseUnavailableError
from kt1.services.context import Ctx

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
                ctx.session.rollback()
                if _is_lock_conflict(exc) and attempt == 1:
                    continue
                raise DatabaseUnavailableError() from exc
            except BaseException:
                ctx.session.rollback()
                raise
        raise AssertionError("unreachable")

    return wrapper


def _is_lock_conflict(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in {"40001", "40P01"}  # serialization failure, deadlock
