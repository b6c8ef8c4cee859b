"""Protection terms and the end of a secret's life (docs/domain.md §8; docs/rules.md, rules
P4 to P7): the term from the dated rule on the classification date, a shorter term, a
longer one refused; extension, declassification and destruction recorded as links of the
chain with their decision, and every refusal writing nothing; the "due for review" list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import KT1Error
from kt1.models import Envelope, Handoff, ProtectionDecision
from kt1.models.enums import Classification, EnvelopeStatus, EventKind, Secrecy
from kt1.services import custody, protection
from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from kt1.services.verify import verify
from kt1.web.words import WORDS
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
TODAY = date(2026, 11, 23)  # the test clock's day in Vietnam


def reload(ctx: Ctx, number: str) -> Envelope:
    ctx.session.expire_all()
    return ctx.session.execute(select(Envelope).where(Envelope.number == number)).scalar_one()


def refused(slug: str, snapshot: Snapshot, call: Callable[[], Any]) -> KT1Error:
    """``call`` is refused with ``slug``, a Vietnamese message, and nothing is written."""
    before = snapshot()
    with pytest.raises(KT1Error) as caught:
        call()
    assert caught.value.slug == slug, caught.value.message
    assert caught.value.message_local and "{" not in caught.value.message_local
    assert snapshot() == before
    return caught.value


def arrived(ctx: Ctx, network: Network, clock: Clock, **kw: Any) -> Envelope:
    """A document that reached UBND-HCM and rests with its registry (vt_hcm)."""
    env = register(ctx, network, **kw)
    carry(ctx, network, clock, env)
    return reload(ctx, env.number)


DECISION = {"decision_number": "15/QĐ-UBND", "decided_by": "Nguyễn Văn Quyết",
            "decided_by_title": "Chủ tịch UBND"}
COUNCIL = ["Trần Văn An", "Lê Thị Bình", "Phạm Văn Cường"]


# ------------------------------------------------------------------ terms at registration


@pytest.mark.parametrize(("classification", "years"), [
    (Classification.TOP_SECRET, 30), (Classification.SECRET, 20),
    (Classification.CONFIDENTIAL, 10)])
def test_the_term_runs_from_the_classification_date_by_the_rule_in_force_then(
        ctx: Ctx, network: Network, clock: Clock, classification: Classification,
        years: int) -> None:
    # under Law 29/2018 (a document of 2025) and under Law 117/2025 (one of 2026)
    for day in (date(2025, 6, 30), date(2026, 3, 1)):
        env = register(ctx, network, classification=classification, document_date=day)
        assert env.classified_on == day
        assert env.protection_until == day.replace(year=day.year + years)
        rule = protection.term_rule(ctx.session, classification, day)
        assert rule is not None and rule.years == years
        assert ("117/2025" in rule.source) == (day >= date(2026, 3, 1))
    # the classification date may differ from the document's date
    env = register(ctx, network, classification=classification,
                   document_date=date(2024, 1, 10), classified_on=date(2024, 2, 29))
    assert env.classified_on == date(2024, 2, 29)
    # 29 February stays where the end year has one (2044), else 28 February
    assert env.protection_until == date(2024 + years, 2, 29 if years == 20 else 28)


def test_a_shorter_term_is_kept_and_a_longer_one_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2025, 12, 1), protection_until=date(2027, 5, 1))
    assert env.protection_until == date(2027, 5, 1)
    error = refused("protection_term_too_long", snapshot, lambda: register(
        ctx, network, classification=Classification.CONFIDENTIAL,
        document_date=date(2025, 12, 1), protection_until=date(2035, 12, 2)))
    assert "2035-12-01" in error.message_local and "10 năm" in error.message_local
    assert error.details["field"] == "protection_until"


def test_an_unclassified_item_has_no_term(ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, classification=Classification.UNCLASSIFIED)
    assert env.classified_on is None and env.protection_until is None
    assert next(iter(verify(ctx, [env.number]))).codes == []


# ------------------------------------------------------------------ extension


def test_an_extension_is_a_link_with_its_decision_and_moves_the_end(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = arrived(ctx, network, clock, classification=Classification.CONFIDENTIAL,
                  document_date=date(2026, 1, 5))
    assert env.protection_until == date(2036, 1, 5)
    holder = env.holder_user_id
    found = protection.extend(ctx, network["vt_hcm"], env.number, new_until=date(2041, 1, 5),
                              decided_on=date(2026, 11, 20), **DECISION)
    env = reload(ctx, env.number)
    assert env.protection_until == date(2041, 1, 5)
    assert env.holder_user_id == holder and env.status is EnvelopeStatus.ARRIVED
    assert found.previous_until == date(2036, 1, 5) and found.new_until == date(2041, 1, 5)
    link = ctx.session.get(Handoff, found.handoff_id)
    assert link is not None and link.kind is EventKind.PROTECTION_EXTENDED
    assert "until=2041-01-05" in link.note and "decision=15/QĐ-UBND" in link.note
    assert link.from_user_id == link.to_user_id == holder
    # the term is now longer than the rule alone allows: the extension covers it
    report = next(iter(verify(ctx, [env.number])))
    assert report.codes == [], [f.message_en for f in report.findings]
    # a head of the unit may record one too
    protection.extend(ctx, network["head_hcm"], env.number, new_until=date(2042, 1, 5),
                      **DECISION)
    assert reload(ctx, env.number).protection_until == date(2042, 1, 5)


def test_an_extension_not_later_than_the_current_end_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = arrived(ctx, network, clock, document_date=date(2026, 1, 5))
    for until in (env.protection_until, env.protection_until - timedelta(days=1)):
        refused("extension_not_longer", snapshot, lambda u=until: protection.extend(
            ctx, network["vt_hcm"], env.number, new_until=u, **DECISION))


# ------------------------------------------------------------------ declassification


def test_partial_then_full_declassification_and_not_twice(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = arrived(ctx, network, clock)
    refused("invalid_field", snapshot, lambda: protection.declassify(
        ctx, network["vt_hcm"], env.number, partial=True, **DECISION))
    part = protection.declassify(ctx, network["vt_hcm"], env.number, partial=True,
                                 scope_note="Phụ lục 2", **DECISION)
    assert part.partial and part.scope_note == "Phụ lục 2"
    assert reload(ctx, env.number).secrecy is Secrecy.PARTLY_DECLASSIFIED
    protection.declassify(ctx, network["vt_hcm"], env.number, **DECISION)
    env = reload(ctx, env.number)
    assert env.secrecy is Secrecy.DECLASSIFIED
    kinds = [h.kind for h in custody.timeline(ctx, env)][-2:]
    assert kinds == [EventKind.DECLASSIFIED, EventKind.DECLASSIFIED]
    refused("already_declassified", snapshot, lambda: protection.declassify(
        ctx, network["vt_hcm"], env.number, **DECISION))
    refused("already_declassified", snapshot, lambda: protection.extend(
        ctx, network["vt_hcm"], env.number, new_until=date(2060, 1, 1), **DECISION))
    assert next(iter(verify(ctx, [env.number]))).codes == []


# ------------------------------------------------------------------ destruction


def test_a_destruction_ends_the_chain_and_nothing_may_follow(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = arrived(ctx, network, clock)
    found = protection.destroy(ctx, network["vt_hcm"], env.number, council_members=COUNCIL,
                               record_number="BB-07/2026", **DECISION)
    assert found.council_members.splitlines() == COUNCIL
    assert found.record_number == "BB-07/2026"
    env = reload(ctx, env.number)
    assert env.status is EnvelopeStatus.DESTROYED and env.secrecy is Secrecy.DESTROYED
    last = custody.timeline(ctx, env)[-1]
    assert last.kind is EventKind.DESTROYED and "record=BB-07/2026" in last.note
    assert "council=3" in last.note
    report = next(iter(verify(ctx, [env.number])))
    assert report.codes == [] and report.status == "complete"
    # anything after it: a handoff, a decision, a circulation
    refused("used_after_destruction", snapshot, lambda: custody.record_handoff(
        ctx, network["vt_hcm"], custody.HandoffRequest(
            number=env.number, kind=EventKind.PASSED_TO_ADDRESSEE, scan_id=new_scan(),
            event_at=clock.tick(), receiver=network["cv_hcm"], receipt=pin(network["cv_hcm"]))))
    refused("used_after_destruction", snapshot, lambda: custody.record_handoff(
        ctx, network["vt_hcm"], custody.HandoffRequest(
            number=env.number, kind=EventKind.CIRCULATED_FOR_HANDLING, scan_id=new_scan(),
            event_at=clock.tick(), receiver=network["cv_hcm"], receipt=pin(network["cv_hcm"]))))
    for call in (
            lambda: protection.extend(ctx, network["vt_hcm"], env.number,
                                      new_until=date(2070, 1, 1), **DECISION),
            lambda: protection.declassify(ctx, network["vt_hcm"], env.number, **DECISION),
            lambda: protection.destroy(ctx, network["vt_hcm"], env.number,
                                       council_members=COUNCIL, record_number="BB-2",
                                       **DECISION)):
        refused("used_after_destruction", snapshot, call)


@pytest.mark.parametrize(("change", "field"), [
    ({"decision_number": ""}, "decision_number"),
    ({"decided_by": " "}, "decided_by"),
    ({"council_members": ["Trần Văn An"]}, "council_members"),
    ({"council_members": "Trần Văn An;  ; "}, "council_members"),
    ({"record_number": ""}, "record_number"),
])
def test_a_destruction_without_its_decision_council_or_record_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot,
        change: dict[str, Any], field: str) -> None:
    env = arrived(ctx, network, clock)
    values = {**DECISION, "council_members": COUNCIL, "record_number": "BB-1", **change}
    error = refused("destruction_needs_decision", snapshot, lambda: protection.destroy(
        ctx, network["vt_hcm"], env.number, **values))
    assert error.details["field"] == field


def test_a_council_may_be_typed_as_one_text(ctx: Ctx, network: Network, clock: Clock) -> None:
    env = arrived(ctx, network, clock)
    found = protection.destroy(ctx, network["vt_hcm"], env.number,
                               council_members="Trần Văn An; Lê Thị Bình",
                               record_number="BB-1", destroyed_on=TODAY, **DECISION)
    assert found.council_members == "Trần Văn An\nLê Thị Bình"


# ------------------------------------------------------------------ where and who


@pytest.mark.parametrize("until", ["accepted", "sealed", "out_for_delivery", "delivered"])
def test_no_decision_on_an_item_in_transit(ctx: Ctx, network: Network, clock: Clock,
                                           snapshot: Snapshot, until: str) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until=until)
    # the sender, who sees it on its way, is told it is in transit
    refused("item_in_transit", snapshot, lambda: protection.destroy(
        ctx, network["vt_bnv"], env.number, council_members=COUNCIL, record_number="BB-1",
        **DECISION))
    exc = refused("item_in_transit", snapshot, lambda: protection.extend(
        ctx, network["vt_bnv"], env.number, new_until=date(2070, 1, 1), **DECISION))
    # the status in the words the pages use, not the stored value
    status = exc.details["status"]
    assert status in {s.value for s in EnvelopeStatus}
    assert f"({status})" not in exc.message_local and f"({status})" in exc.message
    assert f"({WORDS[EnvelopeStatus][status].lower()})" in exc.message_local


def test_another_unit_gets_the_unknown_number_answer(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    """docs/access.md: UBND-HN may not see a BNV -> UBND-HCM document: every write answers
    as for a number never issued, and its due list does not show it."""
    env = register(ctx, network, document_date=date(2019, 12, 20),
                   classification=Classification.CONFIDENTIAL, protection_until=date(2027, 1, 1))
    never = format_number("KT", 999_999, "VN")
    outsider = network["vt_hn"]
    calls = {
        "extend": lambda n: protection.extend(ctx, outsider, n, new_until=date(2070, 1, 1),
                                              **DECISION),
        "declassify": lambda n: protection.declassify(ctx, outsider, n, **DECISION),
        "destroy": lambda n: protection.destroy(ctx, outsider, n, council_members=COUNCIL,
                                                record_number="BB-1", **DECISION),
    }
    for call in calls.values():
        mine = refused("unknown_envelope", snapshot, lambda c=call: c(env.number))
        other = refused("unknown_envelope", snapshot, lambda c=call: c(never))
        assert mine.message_local == other.message_local.replace(never, env.number)
    assert env.number in [e.number for e in protection.due_for_review(ctx, network["vt_bnv"])]
    assert protection.due_for_review(ctx, outsider) == []
    # a courier of a post office is no registry clerk of the holder
    refused("forbidden", snapshot, lambda: protection.due_for_review(ctx, network["bt_hn"]))


def test_only_a_registry_clerk_of_the_holding_unit_decides(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = arrived(ctx, network, clock)
    # the security officer of the holder, the sender's clerk (it sees the item it sent)
    for actor in ("bm_hcm", "vt_bnv"):
        refused("forbidden", snapshot, lambda a=actor: protection.declassify(
            ctx, network[a], env.number, **DECISION))


# ------------------------------------------------------------------ due for review


def test_the_due_list_shows_terms_ending_within_the_horizon_soonest_first(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    def doc(**kw: Any) -> str:
        return register(ctx, network, classification=Classification.CONFIDENTIAL,
                        **kw).number

    ended = doc(document_date=date(2019, 1, 10), protection_until=date(2026, 1, 10))
    soon = doc(document_date=date(2025, 12, 1), protection_until=date(2027, 3, 1))
    later = doc(document_date=date(2025, 12, 1), protection_until=date(2027, 7, 1))
    far = doc(document_date=date(2026, 6, 1))  # 2036
    gone = doc(document_date=date(2019, 2, 10), protection_until=date(2026, 2, 10))
    protection.declassify(ctx, network["vt_bnv"], gone, **DECISION)
    clerk = network["vt_bnv"]
    assert [e.number for e in protection.due_for_review(ctx, clerk)] == [ended, soon]
    assert [e.number for e in protection.due_for_review(ctx, clerk, within_months=8)] == [
        ended, soon, later]
    assert far not in [e.number for e in protection.due_for_review(ctx, clerk, 100)]
    assert far == protection.due_for_review(ctx, clerk, 120)[-1].number
    # the security officer of the unit sees the same list; the setting is the default
    from dataclasses import replace

    ctx.settings = replace(ctx.settings, protection_review_months=8)
    assert len(protection.due_for_review(ctx, network["bm_bnv"])) == 3
    # a document handed over to the post office is no longer the unit's to review
    custody.accept_at_counter(ctx, network["gd_hn"], soon, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["vt_bnv"]))
    assert soon not in [e.number for e in protection.due_for_review(ctx, clerk)]


def test_decision_rows_list_the_history(ctx: Ctx, network: Network, clock: Clock) -> None:
    env = arrived(ctx, network, clock)
    protection.extend(ctx, network["vt_hcm"], env.number,
                      new_until=env.protection_until + timedelta(days=400), **DECISION)
    protection.declassify(ctx, network["vt_hcm"], env.number, **DECISION)
    rows = protection.decisions(ctx, reload(ctx, env.number))
    assert [r.kind for r in rows] == [EventKind.PROTECTION_EXTENDED, EventKind.DECLASSIFIED]
    assert ctx.session.execute(select(ProtectionDecision)).scalars().all() == rows
