"""People and custody (docs/rules.md, rule A6): what a person holds is handed over before
their account is closed. Judged by the verifier on the chain's final state."""

from __future__ import annotations

from kt1.services.rules.facts import JSON_NULL, ChainState, Hit, World, hit


def holder_active(st: ChainState, w: World) -> Hit | None:
    """Rule A6: the envelope is not left with a deactivated account (a destroyed document,
    rule P6, is held by nobody any more)."""
    if st.holder_user != JSON_NULL and st.status != b"destroyed" and w.is_inactive(
            st.holder_user):
        return hit("held_by_inactive_user", holder=w.full_name(st.holder_user) or "?")
    return None
