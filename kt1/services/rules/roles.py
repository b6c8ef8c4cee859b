"""Who may receive each kind of handoff (docs/rules.md, rule A4): the role and the unit.

Write only: the record keeps who received, not the role they held that day, so only the
write path can judge it. A pure function over :class:`~kt1.services.rules.facts.Person`
values; it answers with the refusal (``forbidden`` or ``wrong_unit``) and what its message
names, or None.
"""

from __future__ import annotations

from kt1.models.enums import EventKind, Role
from kt1.services.rules.facts import Hit, Person, hit

_ROLE = {
    EventKind.CIRCULATED_FOR_DIRECTION: Role.REGISTRY_CLERK,
    EventKind.CIRCULATED_FOR_HANDLING: Role.REGISTRY_CLERK,
    EventKind.CIRCULATED_TO_REGISTRY: Role.REGISTRY_CLERK,
    EventKind.ACCEPTED: Role.COUNTER_CLERK,
    EventKind.OUT_FOR_DELIVERY: Role.COURIER,
    EventKind.DELIVERED: Role.REGISTRY_CLERK,
    EventKind.RETURNED: Role.REGISTRY_CLERK,
    EventKind.RECALLED: Role.REGISTRY_CLERK,
}


#: Role families (docs/access.md): who may take over what a person of each role holds.
ROLE_FAMILIES: dict[str, frozenset[str]] = {
    Role.REGISTRY_CLERK: frozenset({Role.REGISTRY_CLERK}),
    Role.COUNTER_CLERK: frozenset({Role.COUNTER_CLERK, Role.COURIER}),
    Role.COURIER: frozenset({Role.COUNTER_CLERK, Role.COURIER}),
}


def same_family(role: str, other: str) -> bool:
    """May a person of role ``other`` take over what a person of ``role`` holds?"""
    return other in ROLE_FAMILIES.get(role, frozenset())


def receiver_may_receive(kind: EventKind, receiver: Person, giver: Person,
                         recipient_unit_id: int, sender_unit_id: int) -> Hit | None:
    """An active account of the role that does the stage, in the unit where it happens:
    acceptance by a counter clerk of a KT1 post office; out for delivery to a courier of
    the giver's office; delivery to a registry clerk of the recipient unit; passing on
    inside the recipient unit; a return or recall to a registry clerk of the sender;
    internal circulation to a person of the agency's staff in the giver's unit (rule A7); a
    hand-over on leaving to an active colleague of the giver's unit and role family (A6)."""
    if kind is EventKind.HANDED_OVER and (
            not receiver.is_active or not same_family(giver.role, receiver.role)):
        return hit("forbidden", reason="cannot take over what this person holds")
    role = _ROLE.get(kind)
    if role is not None and (receiver.role != role or not receiver.is_active):
        return hit("forbidden", reason=f"cannot receive a {kind} handoff")
    if kind is EventKind.ACCEPTED and not receiver.unit_is_post_office:
        return hit("forbidden", reason="only a KT1 post office accepts envelopes")
    unit = {EventKind.OUT_FOR_DELIVERY: ("giver", giver.unit_id),
            EventKind.CIRCULATED_FOR_DIRECTION: ("giver", giver.unit_id),
            EventKind.CIRCULATED_FOR_HANDLING: ("giver", giver.unit_id),
            EventKind.CIRCULATED_TO_REGISTRY: ("giver", giver.unit_id),
            EventKind.HANDED_OVER: ("giver", giver.unit_id),
            EventKind.DELIVERED: ("recipient", recipient_unit_id),
            EventKind.PASSED_TO_ADDRESSEE: ("recipient", recipient_unit_id),
            EventKind.RETURNED: ("sender", sender_unit_id),
            EventKind.RECALLED: ("sender", sender_unit_id)}.get(kind)
    if unit is not None and receiver.unit_id != unit[1]:
        return hit("wrong_unit", unit=unit[0])
    return None
