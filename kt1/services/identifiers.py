"""S10 item numbers (docs/domain.md §6): two service letters, 8-digit serial, check digit, country.

Example: ``KT000000080VN``. The check digit catches most typos; every parsed number is still
looked up, because about 2% of single-digit typos pass the check.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kt1.errors import (
    CheckDigitError,
    NumberCountryError,
    NumberLengthError,
    NumberLettersError,
    NumberSerialError,
)
from kt1.models import Counter

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
MAX_SERIAL = 99_999_999


def check_digit(serial: int | str) -> int:
    """Mod-11 check digit over the 8-digit serial: 11 - (S mod 11), 10 -> 0, 11 -> 5."""
    digits = f"{int(serial):08d}"
    if len(digits) != 8:
        raise ValueError("serial must have at most 8 digits")
    total = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True))
    c = 11 - (total % 11)
    return {10: 0, 11: 5}.get(c, c)


def format_number(letters: str, serial: int, country: str) -> str:
    return f"{letters}{serial:08d}{check_digit(serial)}{country}"


@dataclass(frozen=True)
class ItemNumber:
    letters: str
    serial: int
    check: int
    country: str

    def __str__(self) -> str:
        return f"{self.letters}{self.serial:08d}{self.check}{self.country}"


def parse_number(raw: str, letters: str, country: str) -> ItemNumber:
    """Parse a scanned or typed code, raising a precise error for each kind of mistake.

    Surrounding whitespace is ignored and letters are upper-cased (keyboard-wedge scanners
    with Caps Lock on send lower case); anything else must match exactly.
    """
    code = (raw or "").strip().upper()
    if len(code) != 13:
        raise NumberLengthError(length=len(code))
    if code[:2] != letters:
        raise NumberLettersError(expected=letters)
    if code[11:] != country:
        raise NumberCountryError(expected=country)
    body = code[2:11]
    if not (body.isascii() and body.isdigit()):
        raise NumberSerialError()
    serial, check = int(body[:8]), int(body[8])
    if check_digit(serial) != check:
        raise CheckDigitError(number=code)
    return ItemNumber(letters, serial, check, country)


def next_value(session: Session, name: str) -> int:
    """Increment the named counter and return the new value.

    ``UPDATE ... RETURNING`` takes the row lock, so two processes allocating at the same
    moment on PostgreSQL wait for each other and never get the same value; on SQLite the
    whole transaction already holds the write lock (BEGIN IMMEDIATE).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Counter).values(name=name, value=0).on_conflict_do_nothing(
            index_elements=["name"]))
    value = session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
        .returning(Counter.value)).scalar_one()
    return int(value)


def peek_value(session: Session, name: str) -> int:
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar() or 0


def allocate_number(session: Session, letters: str, country: str) -> str:
    """A fresh S10 number; serials are never reused (envelopes are never deleted)."""
    serial = next_value(session, f"s10:{letters}")
    if serial > MAX_SERIAL:
        raise RuntimeError(f"S10 serials for {letters} are exhausted; configure new letters")
    return format_number(letters, serial, country)
