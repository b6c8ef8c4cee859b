"""Checking free text from users and devices: length, control characters, Unicode form."""

from __future__ import annotations

import re
import unicodedata

from kt1.errors import ValidationError

_SCAN_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
#: What no string from outside may hold, whatever the field: C0 and C1 control characters
#: except tab and line breaks (NUL above all: PostgreSQL refuses it in text, so it would end
#: as a 500), and lone surrogates (JSON can spell them, UTF-8 cannot store them).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str | None, field: str, max_length: int, *, required: bool = False,
               multiline: bool = False) -> str:
    """Return ``value`` stripped and NFC-normalised, or raise ``invalid_field``.

    Control and format characters are refused rather than silently dropped: a scanner that
    sends them is misconfigured, and a stored NUL or bidi override could hide what a
    register shows. A ``multiline`` field (a report, biên bản) keeps its line breaks, each
    stored as a line feed (a browser's text area sends CR LF). Only the field name goes into
    the error, never the value.
    """
    text = unicodedata.normalize("NFC", (value or "").strip())
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if required and not text:
        raise ValidationError(field=field, reason="required")
    if len(text) > max_length:
        raise ValidationError(field=field, reason=f"longer than {max_length} characters")
    allowed = "\n" if multiline else ""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} and ch not in allowed
           for ch in text):
        raise ValidationError(field=field, reason="contains control characters")
    return text


def clean_scan_id(value: str) -> str:
    """A client-generated scan id: 8-64 characters of ``[A-Za-z0-9._:-]`` (a UUID fits)."""
    if not isinstance(value, str) or not _SCAN_ID.match(value):
        raise ValidationError(field="scan_id", reason="8-64 letters, digits or . _ : -")
    return value


def has_forbidden_characters(value: str) -> bool:
    """Whether ``value`` holds a character no field accepts (see ``_FORBIDDEN``).

    The general guard at the edge (API schemas, page parameters) uses it so that such input
    is a 4xx naming the field; :func:`clean_text` stays the stricter rule of each field.
    """
    return _FORBIDDEN.search(value) is not None


def refuse_forbidden_characters(value: str, field: str) -> None:
    """Raise ``invalid_field`` naming ``field`` (never quoting the value) if ``value`` holds
    a character no field accepts."""
    if has_forbidden_characters(value):
        raise ValidationError(field=field, reason="contains control characters")
