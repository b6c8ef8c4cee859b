"""Custody inside a unit (docs/rules.md, rules A6 and A7): internal circulation (luân
chuyển nội bộ) and the hand-over when a person leaves or moves (bàn giao).

Pure functions over wire values (:mod:`kt1.services.rules.facts`), judged by the write path
and by the verifier alike. Who may receive by role is rule A4 (write only,
:mod:`kt1.services.rules.roles`).
"""

from __future__ import annotations

from typing import Any

from kt1.models.enums import INTERNAL_EVENTS, EnvelopeStatus, EventKind
from kt1.services.rules.book import link_rule
from kt1.services.rules.facts import ChainState, Hit, World, hit

K_FOR_DIRECTION = EventKind.CIRCULATED_FOR_DIRECTION.value.encode()
S_REGISTERED = EnvelopeStatus.REGISTERED.value.encode()
S_ARRIVED = EnvelopeStatus.ARRIVED.value.encode()


@link_rule("A7", kinds=INTERNAL_EVENTS)
def circulates_inside_unit(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule A7: internal circulation moves a document between two people of the unit that
    holds it — the sender's before the post office accepts it, the recipient's after its
    incoming register; what goes for direction (ý kiến chỉ đạo) goes to a head of that unit;
    an addressee-only envelope circulates only once the named person has received it."""
    unit = env.sender_unit_id if st.status == S_REGISTERED else env.recipient_unit_id
    if ln.from_unit_id != unit or ln.to_unit_id != unit:
        return hit("circulated_outside_unit")
    if ln.to_user_id == ln.from_user_id:
        return hit("circulated_to_self")
    if ln.kind == K_FOR_DIRECTION and not w.is_head(ln.to_user_id):
        return hit("direction_not_by_head")
    if st.status == S_ARRIVED and env.is_addressee_only == b"true":
        return hit("addressee_only_violated", why="not_passed")
    return None


@link_rule("A6", kinds=frozenset({EventKind.HANDED_OVER}))
def handed_to_colleague(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule A6: what a leaving or moving person holds is handed over to another person of
    the same unit (the role family is judged by the write path, rule A4)."""
    if ln.to_unit_id != ln.from_unit_id:
        return hit("handover_outside_unit")
    if ln.to_user_id == ln.from_user_id:
        return hit("handed_to_self")
    return None
