"""Checking free text from users and devices: length, control characters, Unicode form."""

from __future__ import annotations

import re
import unicodedata

from kt1.errors import ValidationError

_SCAN_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def clean_text(value: str | None, field: str, max_length: int, *, required: bool = False) -> str:
    """Return ``value`` stripped and NFC-normalised, or raise ``invalid_field``.

    Control and format characters are refused rather than silently dropped: a scanner that
    sends them is misconfigured, and a stored NUL or bidi override could hide what a
    register shows. Only the field name goes into the error, never the value.
    """
    text = unicodedata.normalize("NFC", (value or "").strip())
    if required and not text:
        raise ValidationError(field=field, reason="required")
    if len(text) > max_length:
        raise ValidationError(field=field, reason=f"longer than {max_length} characters")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in text):
        raise ValidationError(field=field, reason="contains control characters")
    return text


def clean_scan_id(value: str) -> str:
    """A client-generated scan id: 8-64 characters of ``[A-Za-z0-9._:-]`` (a UUID fits)."""
    if not isinstance(value, str) or not _SCAN_ID.match(value):
        raise ValidationError(field="scan_id", reason="8-64 letters, digits or . _ : -")
    return value
