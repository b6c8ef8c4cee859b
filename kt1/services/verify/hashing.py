"""Recomputing each link's hash from its wire row (docs/rules.md, rule 15).

The canonical JSON of a link (:func:`kt1.services.chain.canonical`) is rebuilt from the wire
fields with one ``%`` format whose template is derived from
:data:`kt1.services.chain.HANDOFF_FIELDS`. Pasting COPY fields in as they are is exact for
every row without a double quote: COPY escapes a backslash, tab, newline, carriage return,
backspace and form feed exactly as JSON does. A row with a double quote is formatted field
by field with JSON escaping instead. Where the two escapings differ (a vertical tab, ``\\v``
in COPY, or another control character, raw in COPY) the fast text holds something canonical
JSON never does, so it can never pass for authentic; and every mismatch is recomputed with
``chain.canonical`` itself before it is reported (:func:`precise_hash_ok`). The services
refuse control characters in every field anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from kt1.services import chain
from kt1.services.chain import HASHED_FIELDS
from kt1.services.rules.facts import (
    ENVELOPE_NAMES,
    JSON_NULL,
    LINK_INDEX,
    WIRE_NULL,
    copy_decode,
)

# The templates below reproduce chain.canonical for this format version only.
assert chain.FORMAT_VERSION == 1, "update the verifier's canonical formatter"  # noqa: S101

N, _NULL = WIRE_NULL, JSON_NULL
GENESIS = b"0" * 64


def _slot(f: chain.HandoffField) -> bytes:
    """A field's place in the template: quoted by the template when it is never NULL."""
    quoted = f.form == "time" or (f.is_text and not f.nullable)
    return b'"%s"' if quoted else b"%s"


_KEYS = sorted([*(f.name for f in HASHED_FIELDS), "v"])
_SLOTS = {f.name: _slot(f) for f in HASHED_FIELDS}
FULL = b"{" + b",".join(
    b'"' + k.encode() + b'":' + (b"1" if k == "v" else _SLOTS[k]) for k in _KEYS) + b"}"
_HEAD, _TAIL = FULL.split(b',"envelope_id":')
_TAIL = b',"envelope_id":' + _TAIL
_ENVELOPE_AT = [f.name for f in HASHED_FIELDS].index("envelope_id")
#: Which fields are JSON strings, and which of those the template quotes itself.
_STRINGS = frozenset(k for k, f in enumerate(HASHED_FIELDS) if f.is_text)
_QUOTED = frozenset(k for k, f in enumerate(HASHED_FIELDS) if _slot(f) == b'"%s"')
_NULLABLE_TEXT = tuple(k for k, f in enumerate(HASHED_FIELDS) if f.is_text and f.nullable)
_WIDTH = len(HASHED_FIELDS)
_PLAIN = LINK_INDEX["plain"]


def _make_fast_first() -> Callable[[Any, bytes], bytes]:
    """:func:`link_content` of a plain first link, unrolled once from the declaration."""
    parts = [f"(NULL if r[{k}] == N else b'\"' + r[{k}] + b'\"')" if k in _NULLABLE_TEXT
             else f"r[{k}]" for k in range(_WIDTH)]
    head, tail = parts[:_ENVELOPE_AT], parts[_ENVELOPE_AT:]
    namespace = {"HEAD": _HEAD, "TAIL": _TAIL, "NULL": _NULL, "N": N}
    exec(f"def fast(r, identity):\n    return (HEAD % ({', '.join(head)},) + "  # noqa: S102
         f"b',\"envelope\":' + identity + TAIL % ({', '.join(tail)},))\n",
         namespace)  # source built above from the field declaration, no outside input
    return namespace["fast"]  # type: ignore[return-value]

_fast_first = _make_fast_first()

_IDENTITY = (b'{"agreed_at":%s,"classification":%s,"copies":%s,"document_number":%s,'
             b'"is_addressee_only":%s,"layers":%s,"mark":%s,"number":%s,"recall_by":%s,'
             b'"recipient_unit_id":%s,"recipient_user_id":%s,"register":[%s,%s],'
             b'"registered_by_id":%s,"route":%s,"sender_unit_id":%s,"service":%s,'
             b'"urgency":%s}')
_E_STRINGS = frozenset({"number", "classification", "mark", "service", "agreed_at", "route",
                        "urgency", "document_number", "recall_by"})
_E_ORDER = ("agreed_at", "classification", "copies", "document_number", "is_addressee_only",
            "layers", "mark", "number", "recall_by", "recipient_unit_id", "recipient_user_id",
            "register_year", "register_seq", "registered_by_id", "route", "sender_unit_id",
            "service", "urgency")


def json_field(value: bytes, is_string: bool) -> bytes:
    """One wire field as canonical JSON (exact for any value)."""
    decoded = copy_decode(value)
    if decoded is None:
        return _NULL
    if is_string:
        return str(encode_basestring(decoded)).encode("utf-8", "surrogateescape")
    return decoded.encode()


def _make_fast_identity() -> Callable[[Any], bytes]:
    """``_IDENTITY % values`` for a plain envelope row, unrolled once (a string is ``null``
    or quoted, a number pasted as it is)."""
    at = {name: k for k, name in enumerate(ENVELOPE_NAMES)}
    parts = [f"(NULL if e[{at[n]}] == N else b'\"' + e[{at[n]}] + b'\"')" if n in _E_STRINGS
             else f"e[{at[n]}]" for n in _E_ORDER]
    namespace = {"IDENTITY": _IDENTITY, "NULL": _NULL, "N": N}
    exec(f"def fast(e):\n    return IDENTITY % ({', '.join(parts)},)\n",  # noqa: S102
         namespace)  # source built above from constant names, no outside input
    return namespace["fast"]  # type: ignore[return-value]


_fast_identity = _make_fast_identity()


#: With the provenance facts (``chain.provenance_identity``): the key ``provenance`` sorts
#: between ``number`` and ``recall_by``.
_PROVENANCE_AT = _E_ORDER.index("recall_by")
_PROVENANCE_NUMBERS = frozenset({"drafter_user_id"})
_COPY_AT = _E_ORDER.index("document_number")


def provenance_json(env: Any) -> bytes | None:
    """``chain.provenance_identity`` as canonical JSON (only the facts that are set), or
    None when none is."""
    parts = []
    for key, column in chain.PROVENANCE_KEYS:
        value = getattr(env, column)
        if value == (_NULL if column in _PROVENANCE_NUMBERS else N):
            continue
        parts.append(b'"' + key.encode() + b'":'
                     + json_field(value, column not in _PROVENANCE_NUMBERS))
    return b"{" + b",".join(parts) + b"}" if parts else None


def copy_json(env: Any) -> bytes | None:
    """``chain.copy_identity`` as canonical JSON, or None for an original."""
    if env.copy_of_id == _NULL:
        return None
    parts = []
    for key, column in chain.COPY_KEYS:
        value = getattr(env, column)
        if value == (_NULL if column in chain.COPY_NUMBERS else N):
            continue
        parts.append(b'"' + key.encode() + b'":'
                     + json_field(value, column not in chain.COPY_NUMBERS))
    return b"{" + b",".join(parts) + b"}"


def identity_json(env: Any) -> bytes:
    """``chain.envelope_identity`` as canonical JSON, from a wire envelope (by name)."""
    provenance = provenance_json(env)
    copy = copy_json(env)
    if provenance is None and copy is None:
        if env.plain is True:
            return _fast_identity(env)
        return _IDENTITY % tuple(json_field(getattr(env, name), True) if name in _E_STRINGS
                                 else getattr(env, name) for name in _E_ORDER)
    values: list[bytes] = [json_field(getattr(env, name), True) if name in _E_STRINGS
                           else getattr(env, name) for name in _E_ORDER]
    template = _IDENTITY
    if provenance is not None:
        values.insert(_PROVENANCE_AT, provenance)
        template = template.replace(b',"recall_by":', b',"provenance":%s,"recall_by":')
    if copy is not None:
        # "copy" sorts between "copies" and "document_number"
        values.insert(_COPY_AT, copy)
        template = template.replace(b',"document_number":', b',"copy":%s,"document_number":')
    return template % tuple(values)


def link_content(ln: Any, identity: bytes | None) -> bytes:
    """The canonical bytes of one wire handoff (``chain.canonical``'s output); ``ln`` by
    name or a plain wire row."""
    if ln[_PLAIN] is True:
        if identity is not None:
            return _fast_first(ln, identity)
        values: tuple[bytes, ...] = tuple(
            (_NULL if ln[k] == N else b'"' + ln[k] + b'"') if k in _NULLABLE_TEXT else ln[k]
            for k in range(_WIDTH))
    else:
        fields = []
        for k in range(_WIDTH):
            j = json_field(ln[k], k in _STRINGS)
            if k in _QUOTED and j[:1] == b'"':
                j = j[1:-1]  # the template writes these quotes itself
            fields.append(j)
        values = tuple(fields)
    if identity is None:
        return FULL % values
    return (_HEAD % values[:_ENVELOPE_AT] + b',"envelope":' + identity
            + _TAIL % values[_ENVELOPE_AT:])
