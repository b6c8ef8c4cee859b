"""Rule 15, tamper evidence (docs/rules.md), judged by the verifier only: the stored
record is what is being judged, so only a replay of it can tell it was changed.

The hashing itself (recomputing each link's canonical bytes) is the verifier's work
(:mod:`kt1.services.verify.hashing`); these functions judge what it found.
"""

from __future__ import annotations

from typing import Any

from kt1.services.rules.facts import ChainState, Hit, hit, text


def link_intact(prev_hash: bytes, ln: Any, hash_ok: bool) -> list[Hit] | None:
    """The link points at the one before it and its hash matches its content."""
    hits = []
    if ln.prev_hash != prev_hash:
        hits.append(hit("chain_link_broken"))
    if not hash_ok:
        hits.append(hit("chain_hash_mismatch"))
    return hits or None


def numbered_in_order(position: int, ln: Any) -> Hit | None:
    """Links are numbered 0, 1, 2, … without a gap."""
    if ln.seq != str(position).encode():
        return hit("chain_sequence_broken", position=position)
    return None


def head_agrees(env: Any, st: ChainState) -> list[Hit] | None:
    """The envelope row's chain head and holder agree with its chain (``st``, the state
    after its last link): nothing was cut off the end, and nobody holds it but the last
    receiver."""
    hits = []
    if env.chain_length != str(st.length).encode() or env.last_hash != st.last_hash:
        hits.append(hit("chain_head_mismatch", recorded=text(env.chain_length),
                        actual=st.length))
    if env.holder_user_id != st.holder_user or env.holder_unit_id != st.holder_unit:
        hits.append(hit("holder_mismatch"))
    return hits or None


def chain_exists(length: int) -> Hit | None:
    return hit("chain_missing") if length == 0 else None
