"""The write path's side of the rulebook (docs/rules.md): the state an envelope is in, read
once from its stored row, the handoff about to be written as the rules see it, and the
error each finding is refused with.

The verifier replays stored chains through the same rule functions
(:mod:`kt1.services.verify.replay`); here one new handoff is judged before it is written.
Rules the verifier alone can judge (tamper evidence, the device clock, the manifest a use
case writes in the same step, the seal anomaly as a fact) are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session

from kt1.errors import (
    AcknowledgementInvalidError,
    AcknowledgementMissingError,
    AddresseeFirstError,
    DestructionNeedsDecisionError,
    DirectionNeedsHeadError,
    DiscrepancyOpenError,
    EnvelopeInBagError,
    EventOrderError,
    EventTimeBackwardsError,
    EventTimeFutureError,
    ForbiddenError,
    HandedToSelfError,
    ItemInTransitError,
    KT1Error,
    NotCurrentHolderError,
    PaperReceiptUnboundError,
    ReportRequiredError,
    SealMismatchError,
    UsedAfterDestructionError,
    ValidationError,
    WrongUnitError,
)
from kt1.models import Envelope, User
from kt1.models.enums import AckMethod, UnitKind
from kt1.services import rules
from kt1.services.paper import paper_sheets
from kt1.services.rules.book import VERIFY_ONLY, LinkRule
from kt1.services.rules.facts import (
    ENVELOPE_NAMES,
    ChainState,
    EnvelopeFacts,
    Hit,
    PaperSheet,
    Person,
    SealReport,
    World,
    copy_encode,
    link_from,
    number_wire,
    sheet_key,
    time_wire,
)

_NUMBERS = frozenset({"id", "recipient_user_id", "holder_unit_id", "holder_user_id",
                      "drafter_user_id", "copy_of_id", "copy_no", "copy_total",
                      "copy_approved_by_id"})


def envelope_facts(envelope: Envelope) -> Any:
    """The stored envelope as the rules see it (the verifier reads the same columns)."""
    values: list[Any] = []
    for name in ENVELOPE_NAMES:
        if name == "plain":
            values.append(True)
        elif name == "has_subject":
            values.append(copy_encode(envelope.subject_ciphertext is not None))
        elif name in _NUMBERS:
            values.append(number_wire(getattr(envelope, name)))
        else:
            values.append(copy_encode(getattr(envelope, name)))
    return EnvelopeFacts._make(values)


def person(user: User) -> Person:
    """A user as the rules see them (plain values)."""
    return Person(id=user.id, unit_id=user.unit_id,
                  unit_is_post_office=user.unit.kind is UnitKind.POST_OFFICE,
                  role=str(user.role), is_active=user.is_active,
                  is_unit_head=user.is_unit_head, full_name=user.full_name)


def chain_state(envelope: Envelope, bag_seal: str | None = None) -> ChainState:
    """The chain's state before the next event, from the envelope's stored row
    (``bag_seal``: the seal number of the bag it is in, once sealed)."""
    return ChainState(
        length=envelope.chain_length,
        last_hash=envelope.last_hash.encode() if envelope.chain_length else None,
        status=copy_encode(envelope.status) if envelope.chain_length else None,
        holder_unit=number_wire(envelope.holder_unit_id),
        holder_user=number_wire(envelope.holder_user_id),
        last_event_at=time_wire(envelope.last_event_at) if envelope.last_event_at else None,
        in_bag=number_wire(envelope.bag_id) if envelope.bag_id is not None else None,
        registered_in=envelope.incoming_year is not None,
        bag_seal=copy_encode(bag_seal) if bag_seal is not None else None,
    )


class RequestWorld(World):
    """What the rules look up for one request: the people in it, the discrepancy open on
    the envelope or its bag (read with the envelope, :func:`custody.load_for_handoff`; a bag's
    use case checks it for the whole bag first and passes None), the incident report the
    request brings, and the sheet a paper receipt names (:func:`judge_new` reads it)."""

    sheets: dict[str, PaperSheet] | None = None

    def __init__(self, now: datetime, skew: Any, people: list[User], report: str,
                 discrepancy: int | None = None) -> None:
        self.discrepancy = discrepancy
        self.future_limit = time_wire(now + skew)
        self.people = {number_wire(u.id): u for u in people}
        self.report = report

    def is_head(self, user: bytes) -> bool:
        person = self.people.get(user)
        return bool(person and person.is_unit_head)

    def full_name(self, user: bytes) -> str:
        person = self.people.get(user)
        return person.full_name if person else ""

    def open_discrepancy(self, envelope_id: bytes, bag: bytes, at: bytes) -> int | None:
        return self.discrepancy

    def seal_report(self, envelope_id: bytes, bag: bytes, handoff_id: bytes
                    ) -> SealReport | None:
        # the incident is opened with the handoff, with the request's report
        return SealReport(0, self.report) if self.report else None

    def paper_sheet(self, reference: bytes) -> PaperSheet | None:
        return (self.sheets or {}).get(sheet_key(reference))


def _write_rule(fn: LinkRule) -> bool:
    return fn.judged_by != VERIFY_ONLY  # type: ignore[attr-defined]


#: Findings that record a fact rather than refuse: the write path accepts the handoff. (A
#: device clock skew never shows on a new link: the server stamps ``recorded_at`` now.)
FACTS = frozenset({"seal_anomaly", "device_clock_skew"})


def judge_new(envelope: Envelope, values: dict[str, Any], world: RequestWorld,
              bag_seal: str | None = None) -> list[Hit]:
    """Every rule the handoff described by ``values`` would break, in refusal order.

    A paper receipt's sheet is read here, from the envelope's session, for rule A8."""
    link = link_from(values)
    if values.get("ack_method") is AckMethod.PAPER and world.sheets is None:
        session = object_session(envelope)
        if session is not None:
            world.sheets = paper_sheets(session, [sheet_key(link.ack_reference)])
    hits = rules.judge(chain_state(envelope, bag_seal), link, envelope_facts(envelope), world,
                       only=_write_rule)
    return [h for h in hits if h.code not in FACTS]


_ADDRESSEE = {
    "not_named": "only the named addressee may receive this envelope",
    "not_flash": "only a Hỏa tốc envelope may go to someone other than the addressee",
    "not_head": "the receiver is not the head of the unit",
}


def refusal(hit: Hit, envelope: Envelope, names: Callable[[], dict[str, str]]) -> KT1Error:
    """The error the write path refuses a handoff with for ``hit`` (today's slugs).
    ``names`` gives the ``giver``, ``holder``, ``actor``, ``receiver`` and ``bag`` the
    messages name (and ``giver_unit``, the code of the giver's unit)."""
    code, why = hit.code, hit.params.get("why")
    if code == "bag_custody_gap":
        return EnvelopeInBagError(number=envelope.number, bag=names()["bag"])
    if code == "giver_not_holder":
        said = names()
        return NotCurrentHolderError(number=envelope.number, giver=said["giver"],
                                     holder=said["holder"])
    if code == "event_out_of_order" or (code == "arrival_unregistered" and "kind" in hit.params):
        return EventOrderError(kind=hit.params["kind"], status=hit.params["status"])
    simple: dict[str, Callable[[], KT1Error]] = {
        "holder_missing": lambda: ValidationError(field="receiver", reason="required"),
        "receipt_missing": AcknowledgementMissingError,
        "receipt_not_by_receiver": AcknowledgementInvalidError,
        "receipt_over_open_discrepancy": DiscrepancyOpenError,
        "time_backwards": EventTimeBackwardsError,
        "event_in_future": EventTimeFutureError,
        "seal_anomaly_unreported": ReportRequiredError,
        # the incident a new anomaly opens carries the request's report
        # (custody.open_seal_incident): only the report can lack
        "seal_incident_without_report": ReportRequiredError,
        "handed_to_self": HandedToSelfError,
        "circulated_to_self": HandedToSelfError,
    }
    if code in simple:
        return simple[code]()
    if code in ("circulated_outside_unit", "handover_outside_unit"):
        return WrongUnitError(username=names()["receiver"], unit=names()["giver_unit"])
    if code == "direction_not_by_head":
        return DirectionNeedsHeadError(receiver=names()["receiver"])
    if code == "addressee_only_violated":
        if why == "not_passed":
            return AddresseeFirstError(number=envelope.number)
        if why == "no_authorisation":
            return ValidationError(field="note", reason="name the head's written authorisation")
        if why == "unit":
            return WrongUnitError(username=names()["receiver"], unit=envelope.recipient_unit.code)
        return ForbiddenError(_ADDRESSEE.get(str(why), "addressee-only envelope"))
    if code == "arrival_unregistered":
        return WrongUnitError(username=names()["actor"], unit=envelope.recipient_unit.code)
    if code == "seal_number_changed":
        return SealMismatchError(seen=names().get("seal", "?"), recorded="***")
    if code == "paper_receipt_unbound":
        return PaperReceiptUnboundError(why=str(why or "unknown"))
    if code == "used_after_destruction":
        return UsedAfterDestructionError(number=envelope.number)
    if code == "item_in_transit":
        return ItemInTransitError(number=envelope.number, status=hit.params["status"])
    if code == "destruction_needs_decision":
        return DestructionNeedsDecisionError(missing="decision", missing_vi="quyết định")
    raise AssertionError(f"no refusal for finding {code}")  # a rule without its error


#: Every finding code :func:`refusal` turns into an error (a test checks that each code a
#: write-path rule can find is here or in :data:`FACTS`).
REFUSED = frozenset({
    "bag_custody_gap", "giver_not_holder", "event_out_of_order", "arrival_unregistered",
    "holder_missing", "receipt_missing", "receipt_not_by_receiver",
    "receipt_over_open_discrepancy", "time_backwards", "event_in_future",
    "seal_anomaly_unreported", "seal_incident_without_report",
    "addressee_only_violated", "seal_number_changed", "circulated_outside_unit",
    "handover_outside_unit", "direction_not_by_head", "handed_to_self",
    "circulated_to_self", "paper_receipt_unbound", "used_after_destruction",
    "item_in_transit", "destruction_needs_decision"})
