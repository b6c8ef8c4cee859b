"""The end of a secret's life (docs/rules.md, rules P4 to P7; docs/domain.md §8).

A decision on a document's protection is a link of its chain, recorded by the unit that
holds it, the holder unchanged: an extension (``protection_extended``), a declassification
(``declassified``) or a destruction (``destroyed``, the chain's last link). The link's hashed
note carries the facts the verifier needs, as ``name=value`` pairs joined by ``"; "``
(:func:`life_note`): ``decision`` (the decision's number), ``until`` (an extension's new end),
``scope`` (``full`` or ``partial``), ``record`` (the destruction record's number) and
``council`` (how many members signed it).

Link rules (registered before the custody rules, so that the write path refuses with the
specific slug rather than ``event_out_of_order``): nothing follows a destruction (P6); a
decision is recorded only on a document at rest in a unit (P7) and a destruction only with
its decision, record and council (P7). Envelope rules (verifier only): a classified
document has a term (P4), no longer than the dated rule allows unless an extension moved
it (P5).
"""

from __future__ import annotations

import re
from typing import Any

from kt1.models.enums import HELD_STATUSES, LIFE_EVENTS, Classification, EventKind, Secrecy
from kt1.services.rules.book import link_rule
from kt1.services.rules.facts import WIRE_NULL, ChainState, Hit, World, hit, text

#: A destruction council signs with at least this many members (docs/domain.md §8).
MIN_COUNCIL = 2

LIFE_W = frozenset(k.value.encode() for k in LIFE_EVENTS)
HELD_W = frozenset(s.value.encode() for s in HELD_STATUSES)
STATUS_DESTROYED_W = EventKind.DESTROYED.value.encode()  # the status has the same name
K_PROTECTION_EXTENDED = EventKind.PROTECTION_EXTENDED.value.encode()
UNCLASSIFIED_W = Classification.UNCLASSIFIED.value.encode()
ENDED_W = frozenset({Secrecy.DECLASSIFIED.value.encode(), Secrecy.DESTROYED.value.encode()})

_PAIR = re.compile(rb"(?:^|; )([a-z_]+)=([^;]*)")
_DAY = re.compile(rb"\d{4}-\d{2}-\d{2}")


def life_note(**facts: Any) -> str:
    """The hashed note of a life event: ``name=value`` pairs (``;`` in a value is dropped)."""
    return "; ".join(f"{name}={str(value).replace(';', ',').strip()}"
                     for name, value in facts.items() if value is not None)


def note_fact(note: bytes, name: bytes) -> bytes:
    """One fact of a life event's note (wire bytes), b"" when it is not there."""
    if note == WIRE_NULL:
        return b""
    for m in _PAIR.finditer(note):
        if m.group(1) == name:
            return m.group(2).strip()
    return b""


def note_day(note: bytes, name: bytes) -> bytes | None:
    """A date fact of the note (``YYYY-MM-DD`` as bytes), None when absent or malformed."""
    value = note_fact(note, name)
    return value if _DAY.fullmatch(value) else None


def council_size(note: bytes) -> int:
    value = note_fact(note, b"council")
    return int(value) if value.isdigit() else 0


# ------------------------------------------------------------------ link rules (P6, P7)


@link_rule("P6")
def nothing_after_destruction(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule P6: a destroyed document's chain ends with its ``destroyed`` link; anything
    recorded after it is an item used after it was destroyed."""
    if st.status == STATUS_DESTROYED_W:
        return hit("used_after_destruction", kind=text(ln.kind))
    return None


@link_rule("P7", kinds=LIFE_EVENTS)
def decided_while_held(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule P7: a decision on a document's protection is recorded while it rests with a
    unit (registered, arrived, with its addressee, returned or recalled), never in
    transit, and by the unit that holds it (the holder does not change)."""
    if st.length and st.status not in HELD_W:
        return hit("item_in_transit", status=text(st.status))
    return None


@link_rule("P7", kinds=frozenset({EventKind.DESTROYED}))
def destroyed_by_decision(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule P7: a destruction follows a decision of the competent person and is recorded
    by a council (at least two members) in a numbered record (biên bản tiêu hủy)."""
    if note_fact(ln.note, b"decision") == b"" or note_fact(ln.note, b"record") == b"" or (
            council_size(ln.note) < MIN_COUNCIL):
        return hit("destruction_needs_decision")
    return None


# ------------------------------------------------------------------ envelope rules (P4, P5)


def add_years_wire(day: bytes, years: int) -> bytes:
    """``YYYY-MM-DD`` plus whole years, as bytes (29 February becomes 28 February)."""
    year = int(day[:4]) + years
    rest = day[4:]
    if rest == b"-02-29" and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        rest = b"-02-28"
    return b"%04d" % year + rest


def term_recorded(env: Any) -> Hit | None:
    """Rule P4 (verify only): a classified document that is still protected has its
    classification date and the end of its protection term."""
    if env.classification == UNCLASSIFIED_W or env.secrecy in ENDED_W:
        return None
    if env.protection_until == WIRE_NULL or env.classified_on == WIRE_NULL:
        return hit("protection_term_missing")
    return None


def term_within_rule(env: Any, years: int | None, extended_until: bytes | None
                     ) -> Hit | None:
    """Rule P5 (verify only; registration refuses it first): the term ends no later than
    the classification date plus the years of the dated rule in force on that date
    (``years``), or than the latest extension's new end (``extended_until``)."""
    if years is None or env.protection_until == WIRE_NULL or env.classified_on == WIRE_NULL:
        return None
    longest = add_years_wire(env.classified_on, years)
    if extended_until is not None and extended_until > longest:
        longest = extended_until
    if env.protection_until > longest:
        return hit("protection_term_too_long", until=text(env.protection_until),
                   longest=longest.decode(), years=years)
    return None
