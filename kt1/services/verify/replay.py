"""Replaying one envelope's stored chain through the rulebook (docs/rules.md).

Each link is checked for tamper evidence (rule 15), then judged by exactly the link rules
the write path judges a new handoff with (:func:`kt1.services.rules.judge`), then the
chain's state moves on (:func:`kt1.services.rules.advance`). After the last link: the
envelope row agrees with its chain, and the time limits that pass with time.
"""

from __future__ import annotations

import hashlib
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kt1.services.deadlines import local_day_number
from kt1.services.rules import (
    bags,
    copies,
    deadlines,
    envelope,
    incidents,
    people,
    protection,
    tamper,
)
from kt1.services.rules.custody import TERMINAL
from kt1.services.rules.facts import JSON_NULL, WIRE_NULL, ChainState, Hit, text
from kt1.services.verify.compiled import compile_replay
from kt1.services.verify.findings import EnvelopeReport, Finding, finding_of, verdict
from kt1.services.verify.hashing import FULL, GENESIS, identity_json, link_content
from kt1.services.verify.world import StoredWorld

_SEQ = [str(i).encode() for i in range(4096)]


def _seq(value: bytes) -> int | None:
    """A handoff's seq for a finding (None if the stored value is not a number)."""
    return int(value) if value.isdigit() else None


def _unhex(value: bytes) -> bytes | None:
    try:
        return unhexlify(value)
    except (BinasciiError, ValueError, TypeError):
        return None


def _add(findings: list[Finding], found: Hit | list[Hit] | None, seq: bytes | None) -> None:
    if found is None:
        return
    number = _seq(seq) if seq is not None else None
    for h in (found if isinstance(found, list) else (found,)):
        findings.append(finding_of(h, number))


def check_envelope(env: Any, links: list[Any], lines: dict[bytes, bytes],
                   w: StoredWorld) -> EnvelopeReport:
    """Every rule for one envelope (``env`` by name; ``links`` in seq order, wire rows or
    :data:`~kt1.services.rules.facts.Link` values: the rules see them by name)."""
    findings: list[Finding] = []
    _add(findings, envelope.letter_matches(env), None)
    _add(findings, envelope.layers_match(env), None)
    if env.has_subject == b"true":
        policy = w.subject_policy(env.classification,
                                  local_day_number(deadlines.epoch(env.registered_at)))
        _add(findings, envelope.subject_allowed(env, policy), None)
    if env.copy_of_id != JSON_NULL:
        _add(findings, copies.approved(env, w), None)
        _add(findings, copies.numbered_in_sequence(env, w), None)
        _add(findings, copies.original_known(env, w), None)
    _add(findings, protection.term_recorded(env), None)
    if not links:
        _add(findings, tamper.chain_exists(0), None)
        return verdict(text(env.number), findings, None, 0, None)
    w.lines = lines
    st = _replay(env, links, w, findings)
    _add(findings, tamper.head_agrees(env, st), None)
    _add(findings, bags.left_in_bag(st, lines), None)
    _add(findings, people.holder_active(st, w), None)
    if env.protection_until != WIRE_NULL and env.classified_on != WIRE_NULL:
        years = w.term_years(env.classification, env.classified_on)
        _add(findings, protection.term_within_rule(env, years, st.extended_until), None)
    terminal = st.status in TERMINAL
    hits, due = deadlines.delivery_deadline(env, st, terminal, w.now_epoch, w.deadlines)
    _add(findings, hits, None)
    _add(findings, deadlines.registered_on_arrival(st, w.now_epoch, w.deadlines), None)
    _add(findings, deadlines.recalled_in_time(env, st, w.now_epoch), None)
    _add(findings, incidents.acknowledged_in_time(env, lines, w, w.now_epoch), None)
    return verdict(text(env.number), findings, st.status, len(links), due)


def _replay(env: Any, links: list[Any], w: StoredWorld, findings: list[Finding]
            ) -> ChainState:
    """Walk the chain: tamper evidence, then the link rules, then the next state (the
    rulebook compiled into one function, :mod:`.compiled`)."""
    return REPLAY(env, links, w, findings, identity_json(env))


@contextmanager
def rules_called_one_by_one() -> Iterator[None]:
    """Replay calling each rule function as it is, not inlined: the reference the compiled
    replay must agree with (the differential test checks that it does)."""
    global REPLAY
    saved = REPLAY
    if not _REFERENCE:
        _REFERENCE.append(compile_replay(_add, _TAMPER_HELPERS, inline=False))
    REPLAY = _REFERENCE[0]
    try:
        yield
    finally:
        REPLAY = saved


_TAMPER_HELPERS = {
    "_unhex": _unhex, "_FULL": FULL, "_content": link_content, "_sha256": hashlib.sha256,
    "_link_intact": tamper.link_intact, "_numbered": tamper.numbered_in_order, "_SEQ": _SEQ,
    "_GENESIS": GENESIS}
#: The whole replay compiled from the rulebook (:func:`.compiled.compile_replay`).
REPLAY = compile_replay(_add, _TAMPER_HELPERS)
_REFERENCE: list[Any] = []  # the same, calling each rule as it is (made when first asked)
