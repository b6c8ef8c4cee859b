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

from kt1.models.enums import EventKind
from kt1.services.deadlines import local_day_number
from kt1.services.rules import bags, deadlines, envelope, tamper
from kt1.services.rules.custody import TERMINAL
from kt1.services.rules.facts import ChainState, Hit, Link, text
from kt1.services.verify.compiled import Compiled, compile_kind, compile_replay, plain
from kt1.services.verify.findings import EnvelopeReport, Finding, finding_of, verdict
from kt1.services.verify.hashing import FULL, GENESIS, fast_content, identity_json, link_content
from kt1.services.verify.world import StoredWorld

_SEQ = [str(i).encode() for i in range(4096)]
_COMPILED: dict[tuple[bytes, bool], Compiled] = {}


def _compiled(kind: bytes, first: bool) -> Compiled:
    """The rules for ``kind`` compiled into one function (:mod:`.compiled`), made once."""
    found = _COMPILED.get((kind, first))
    if found is None:
        found = _COMPILED[(kind, first)] = COMPILE(kind, first, _add)
    return found


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
    if not links:
        _add(findings, tamper.chain_exists(0), None)
        return verdict(text(env.number), findings, None, 0, None)
    w.lines = lines
    st = _replay(env, links, w, findings)
    _add(findings, tamper.head_agrees(env, st), None)
    _add(findings, bags.left_in_bag(st, lines), None)
    terminal = st.status in TERMINAL
    hits, due = deadlines.delivery_deadline(env, st, terminal, w.now_epoch, w.deadlines)
    _add(findings, hits, None)
    _add(findings, deadlines.registered_on_arrival(st, w.now_epoch, w.deadlines), None)
    _add(findings, deadlines.recalled_in_time(env, st, w.now_epoch), None)
    return verdict(text(env.number), findings, st.status, len(links), due)


def _replay(env: Any, links: list[Any], w: StoredWorld, findings: list[Finding]
            ) -> ChainState:
    """Walk the chain: tamper evidence, then the link rules, then the next state (the
    compiled replay when the rulebook compiles, as it does; this loop otherwise)."""
    if REPLAY is not None:
        return REPLAY(env, links, w, findings, identity_json(env))
    links = [Link._make(ln) for ln in links]
    identity = identity_json(env)
    sha256 = hashlib.sha256
    st = ChainState()
    prev_hash: bytes = GENESIS
    prev_raw: bytes | None = bytes(32)
    sequence_reported = False
    firsts, later = _FIRST, _LATER
    for i, ln in enumerate(links):
        seq = ln.seq
        this_prev = ln.prev_hash
        raw_prev = prev_raw if this_prev == prev_hash else _unhex(this_prev)
        try:
            expected: bytes | None = unhexlify(ln.hash)
        except (BinasciiError, ValueError, TypeError):
            expected = None
        try:
            if ln.plain is True and seq != b"0":
                content = fast_content(ln)
            else:
                content = link_content(ln, identity if seq == b"0" else None)
            ok = expected is not None and raw_prev is not None and sha256(
                raw_prev + content).digest() == expected
        except (TypeError, ValueError, UnicodeDecodeError):
            ok = False
        if not ok:
            ok = w.precise_hash_ok(ln.id)
        if not ok or this_prev != prev_hash:
            _add(findings, tamper.link_intact(prev_hash, ln, ok), seq)
        if not sequence_reported and seq != (_SEQ[i] if i < 4096 else str(i).encode()):
            _add(findings, tamper.numbered_in_order(i, ln), seq)
            sequence_reported = True
        prev_hash, prev_raw = ln.hash, expected
        kind = ln.kind
        judge_link = (later.get(kind) if i else firsts.get(kind)) or _compiled(kind, i == 0)
        judge_link(st, ln, env, w, findings, seq)
    return st


#: How the replay judges a link: the compiled rulebook (``plain`` calls each rule instead).
COMPILE = compile_kind
_KNOWN = [k.value.encode() for k in EventKind]
_FIRST = {k: _compiled(k, True) for k in _KNOWN}
_LATER = {k: _compiled(k, False) for k in _KNOWN}

#: The whole replay compiled from the rulebook (:func:`.compiled.compile_replay`).
REPLAY = compile_replay(_add, {
    "_unhex": _unhex, "_FULL": FULL, "_content": link_content,
    "_sha256": hashlib.sha256, "_link_intact": tamper.link_intact,
    "_numbered": tamper.numbered_in_order, "_SEQ": _SEQ, "_GENESIS": GENESIS})


@contextmanager
def rules_called_one_by_one() -> Iterator[None]:
    """Replay by calling each rule function as it is, not compiled: the reference the
    compiled replay must agree with (the differential test checks that it does)."""
    global REPLAY
    saved = REPLAY, dict(_FIRST), dict(_LATER), dict(_COMPILED)
    REPLAY = None
    for kind in _KNOWN:
        _FIRST[kind], _LATER[kind] = plain(kind, True, _add), plain(kind, False, _add)
    _COMPILED.clear()
    try:
        yield
    finally:
        REPLAY = saved[0]
        _FIRST.update(saved[1])
        _LATER.update(saved[2])
        _COMPILED.clear()
        _COMPILED.update(saved[3])
