"""Shared pieces of the command line: the service context and one way to report errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from flask.cli import with_appcontext

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.services.context import Ctx

F = TypeVar("F", bound=Callable[..., Any])


def ctx() -> Ctx:
    return service_context()


def command(fn: F) -> F:
    """Run inside the app context; a domain error prints its slug and message, exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KT1Error as exc:
            if kwargs.get("as_json"):
                click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
            else:
                click.echo(f"Lỗi [{exc.slug}]: {exc.message_local}", err=True)
                click.echo(f"Error [{exc.slug}]: {exc.message}", err=True)
            raise SystemExit(2) from None

    return with_appcontext(wrapper)  # type: ignore[return-value]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def table(rows: list[list[str]], headers: list[str]) -> None:
    """A plain aligned text table (wide Vietnamese characters count as one column)."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo(fmt.format(*headers))
    click.echo(fmt.format(*("-" * w for w in widths)))
    for row in rows:
        click.echo(fmt.format(*(str(x) for x in row)))
