"""Custody rules for one handoff (docs/rules.md, rules 3 to 6, 9 and 10, and event times).

Pure functions over wire values (:mod:`kt1.services.rules.facts`); registered in judging
order, which is the order the write path refuses in.
"""

from __future__ import annotations

from typing import Any

from kt1.models.enums import (
    ALLOWED_NEXT,
    BAG_EVENTS,
    STATUS_AFTER,
    TRANSFER_EVENTS,
    VOIDABLE_EVENTS,
    EventKind,
)
from kt1.services.rules.book import VERIFY_ONLY, link_rule
from kt1.services.rules.facts import (
    JSON_NULL,
    WIRE_NULL,
    ChainState,
    Hit,
    World,
    hit,
    text,
)

# The rules on a secret's end (P6, P7) register first (imported before any rule here): judged
# before the postal order, so that a step after a destruction, or a decision in transit, is
# refused by its own slug.
from kt1.services.rules.protection import (
    HELD_W,
    K_PROTECTION_EXTENDED,
    LIFE_W,
    STATUS_DESTROYED_W,
    note_day,
)


def _b(kind: EventKind) -> bytes:
    return kind.value.encode()


TRANSFER = frozenset(_b(k) for k in TRANSFER_EVENTS)
BAG_KINDS = frozenset(_b(k) for k in BAG_EVENTS)
STATUS_AFTER_W = {_b(k): v.value.encode() for k, v in STATUS_AFTER.items()}
ALLOWED_NEXT_W = {k.value.encode(): frozenset(_b(e) for e in v) for k, v in ALLOWED_NEXT.items()}
TERMINAL = frozenset({b"arrived", b"with_addressee", b"returned", b"recalled",
                      STATUS_DESTROYED_W})
K_REGISTERED_OUTGOING = _b(EventKind.REGISTERED_OUTGOING)
K_ACCEPTED = _b(EventKind.ACCEPTED)
K_BAGGED = _b(EventKind.BAGGED)
K_UNBAGGED = _b(EventKind.UNBAGGED)
K_VOIDED = _b(EventKind.VOIDED)
VOIDABLE = frozenset(_b(k) for k in VOIDABLE_EVENTS)
K_BAG_SEALED = _b(EventKind.BAG_SEALED)
K_BAG_RECEIVED = _b(EventKind.BAG_RECEIVED)
K_BAG_OPENED = _b(EventKind.BAG_OPENED)
K_DISPATCHED = _b(EventKind.DISPATCHED)
K_DELIVERED = _b(EventKind.DELIVERED)
K_DELIVERY_FAILED = _b(EventKind.DELIVERY_FAILED)
K_REGISTERED_INCOMING = _b(EventKind.REGISTERED_INCOMING)
K_PASSED = _b(EventKind.PASSED_TO_ADDRESSEE)
K_RECALLED = _b(EventKind.RECALLED)
K_HANDED_OVER = _b(EventKind.HANDED_OVER)
SELF = b"self"
_MILESTONES = frozenset({K_ACCEPTED, K_DELIVERED, K_DELIVERY_FAILED, K_REGISTERED_INCOMING,
                         K_RECALLED})


@link_rule("3", judged_by=VERIFY_ONLY, first_only=True)
def registered_first(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 3: the first link is the entry in the outgoing register (registration writes
    it; nothing else can start a chain)."""
    if st.length == 0 and ln.kind != K_REGISTERED_OUTGOING:
        return hit("not_registered_before_handoff")
    return None


@link_rule("5")
def in_bag_moves_with_bag(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 8 seen from one envelope: while it is in a bag, only that bag's events move it
    (the write path refuses a single-envelope event with ``envelope_in_bag``); a hand-over
    (rule A6) of a bag names the bag for every envelope in it; taking it out of a bag still
    open (``unbagged``) names that bag."""
    if st.in_bag is None:
        if ln.kind in BAG_KINDS and ln.kind != K_BAGGED:
            return hit("bag_custody_gap")
        if ln.bag_id != JSON_NULL and ln.kind != K_BAGGED:
            return hit("bag_custody_gap")
        if ln.kind == K_BAGGED and ln.bag_id == JSON_NULL:
            return hit("bag_custody_gap")
        return None
    if ln.kind == K_BAGGED or ln.bag_id != st.in_bag or (
            ln.kind not in BAG_KINDS and ln.kind != K_HANDED_OVER and ln.kind != K_UNBAGGED):
        return hit("bag_custody_gap")
    return None


@link_rule("5")
def hand_to_hand(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 5: the giver of each handoff is the holder after the previous one, and after
    it a named person holds the envelope."""
    if st.length and (ln.from_user_id != st.holder_user or ln.from_unit_id != st.holder_unit):
        return hit("giver_not_holder")
    return hit("holder_missing") if ln.to_user_id == JSON_NULL else None


@link_rule("4")
def stage_order(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rules 4, 9: events follow the postal stages; passing on needs the incoming
    register first."""
    if st.length == 0:
        return None
    if st.status == STATUS_DESTROYED_W or (ln.kind in LIFE_W and st.status not in HELD_W):
        return None  # rules P6 and P7 report it
    if st.status is None or ln.kind not in ALLOWED_NEXT_W.get(st.status, ()):
        if ln.kind == K_PASSED and not st.registered_in:
            return hit("arrival_unregistered", kind=text(ln.kind), status=text(st.status))
        return hit("event_out_of_order", kind=text(ln.kind), status=text(st.status))
    return None


@link_rule("9", kinds=frozenset({EventKind.REGISTERED_INCOMING}))
def registered_by_recipient(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 9: the incoming register that counts is the recipient unit's."""
    return hit("arrival_unregistered") if ln.to_unit_id != env.recipient_unit_id else None


@link_rule("10", kinds=frozenset({EventKind.PASSED_TO_ADDRESSEE}))
def addressee_only(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 10: an addressee-only envelope goes to the named person (by account, or by the
    name written on it when the addressee has none), or, for an absent addressee of a Hỏa
    tốc envelope, to the head of the unit or a person the head authorised in writing (named
    in the note), in the recipient unit. ``why`` tells the write path which part failed."""
    if env.is_addressee_only != b"true":
        return None
    if ln.to_unit_id != env.recipient_unit_id:
        return hit("addressee_only_violated", why="unit")
    authority = ln.authority
    if authority in (WIRE_NULL, b"addressee"):
        if env.recipient_user_id != JSON_NULL:
            named = ln.to_user_id == env.recipient_user_id
        else:
            named = same_name(w.full_name(ln.to_user_id), text(env.recipient_name))
        return None if named else hit("addressee_only_violated", why="not_named")
    if env.service != b"flash" and env.urgency != b"flash":
        return hit("addressee_only_violated", why="not_flash")
    if authority == b"head_of_unit":
        return None if w.is_head(ln.to_user_id) else hit("addressee_only_violated",
                                                           why="not_head")
    if authority == b"authorised" and ln.note.strip() not in (b"", WIRE_NULL):
        return None
    return hit("addressee_only_violated", why="no_authorisation")


def same_name(a: str, b: str) -> bool:
    """Two written names are the same person's (case, spacing and Unicode form aside)."""
    import unicodedata

    def norm(x: str) -> str:
        return " ".join(unicodedata.normalize("NFC", x).casefold().split())

    return bool(a and b and a != "-" and b != "-") and norm(a) == norm(b)


@link_rule("5", kinds=frozenset({EventKind.VOIDED}), judged_by=VERIFY_ONLY)
def void_restores(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """A voided scan takes back the last link only, when it was a single-envelope handoff
    that set no milestone (going out for delivery, passing to the addressee, internal
    circulation), and gives the envelope back to whoever held it before that link (the
    write path also checks the operator and the time allowed)."""
    if st.last_kind not in VOIDABLE or ln.to_user_id != st.prev_holder_user or (
            ln.to_unit_id != st.prev_holder_unit):
        return hit("void_invalid", kind=text(st.last_kind))
    return None


@link_rule("4")
def receipt_signed(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 4: every handover is signed by its receiver."""
    if ln.kind in TRANSFER or (
            st.length and ln.to_user_id != ln.from_user_id and ln.to_user_id != JSON_NULL):
        if ln.ack_user_id == JSON_NULL or ln.ack_method in (WIRE_NULL, SELF):
            return hit("receipt_missing")
        if ln.ack_user_id != ln.to_user_id:
            return hit("receipt_not_by_receiver")
    return None


@link_rule("6", kinds=frozenset({*TRANSFER_EVENTS, EventKind.BAG_OPENED}))
def reconciled_before_signing(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule 6: nobody signs for an envelope (or its bag) while a discrepancy is open, and a
    bag is not opened over one (the missing envelopes stay in it until it is settled)."""
    incident = w.open_discrepancy(env.id, ln.bag_id, ln.recorded_at)
    return hit("receipt_over_open_discrepancy", incident=incident) if incident else None


@link_rule("5")
def event_time(st: ChainState, ln: Any, env: Any, w: World) -> list[Hit] | None:
    """Rule 5: a handoff is not timed before the one before it, nor ahead of the server's
    clock (beyond the allowed skew); and (verify only: the server stamps ``recorded_at``)
    the device's time was close to the server's when the scan was recorded."""
    hits = None
    if st.last_event_at is not None and ln.event_at < st.last_event_at:
        hits = [hit("time_backwards")]
    if ln.event_at > w.future_limit or ln.recorded_at > w.future_limit:
        hits = [*(hits or ()), hit("event_in_future")]
    if ln.skewed == b"1":
        hits = [*(hits or ()), hit("device_clock_skew")]
    return hits


def advance(st: ChainState, ln: Any) -> None:
    """The chain's state after ``ln`` (the verifier's replay; the write path stores it)."""
    kind = ln.kind
    st.length += 1
    st.last_hash = ln.hash
    if kind in BAG_KINDS or st.in_bag is not None:
        if kind == K_BAGGED:
            st.in_bag, st.bag_seal, st.before_bag = ln.bag_id, None, st.status
        elif st.in_bag is not None:
            if kind == K_BAG_SEALED:
                st.bag_seal = ln.seal_number
            elif kind == K_UNBAGGED:
                # back to the stage it was bagged at (accepted, or at the office)
                st.in_bag, st.status = None, st.before_bag
            elif kind == K_BAG_OPENED or (kind not in BAG_KINDS and kind != K_HANDED_OVER):
                st.in_bag = None
    before = st.status
    st.status = STATUS_AFTER_W.get(kind, st.status) if kind != K_VOIDED else st.prev_status
    st.prev_status, st.last_kind = before, kind
    st.prev_holder_unit, st.prev_holder_user = st.holder_unit, st.holder_user
    st.holder_unit = ln.to_unit_id
    st.holder_user = ln.to_user_id
    event_at = st.last_event_at = ln.event_at
    if kind == K_PROTECTION_EXTENDED:
        st.extended_until = note_day(ln.note, b"until")
    if kind in _MILESTONES:
        if kind == K_ACCEPTED:
            st.accepted_at = st.accepted_at or event_at
        elif kind in (K_DELIVERED, K_DELIVERY_FAILED):
            st.attempt_at = st.attempt_at or event_at
            if kind == K_DELIVERED:
                st.delivered_at = event_at
        elif kind == K_REGISTERED_INCOMING:
            st.registered_in = True
            st.incoming_at = st.incoming_at or event_at
        else:
            st.recalled_at = st.recalled_at or event_at
