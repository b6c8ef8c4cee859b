"""``verify``: every finding code, each from a chain that breaks exactly that rule.

Chains are built through the real services, then changed the way an insider with database
access would: the append-only triggers are dropped and, unless a test is about the hashes,
the chain is re-hashed so that only the rule under test is broken. A clean chain of every
shape gives no finding at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from kt1.models import Bag, DeadlineRule, Envelope, Handoff, Incident, ManifestLine, Scan
from kt1.models.enums import (
    Authority,
    Classification,
    DeliveryFailure,
    EventKind,
    IncidentKind,
    SealState,
    ServiceClass,
    Urgency,
)
from kt1.services import bagging, custody
from kt1.services.chain import canonical, envelope_identity, link_hash
from kt1.services.context import Ctx
from kt1.services.incidents import report_incident
from kt1.services.verify import (
    BROKEN,
    COMPLETE,
    FINDINGS,
    IN_TRANSIT,
    OVERDUE,
    EnvelopeReport,
    verify,
)
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

H = Handoff.__table__

# ------------------------------------------------------------------ forging helpers


def drop_append_only(ctx: Ctx) -> None:
    """What an insider with the database password can do: remove the triggers."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        ctx.session.execute(text("DROP TRIGGER IF EXISTS handoff_no_update ON handoff"))
        ctx.session.execute(text("DROP TRIGGER IF EXISTS handoff_no_truncate ON handoff"))
    else:
        ctx.session.execute(text("DROP TRIGGER IF EXISTS handoff_no_update"))
        ctx.session.execute(text("DROP TRIGGER IF EXISTS handoff_no_delete"))
    ctx.session.commit()


def envelope_of(ctx: Ctx, number: str) -> Envelope:
    ctx.session.expire_all()
    return ctx.session.execute(select(Envelope).where(Envelope.number == number)).scalar_one()


def links(ctx: Ctx, number: str) -> list[dict[str, Any]]:
    """The envelope's handoff rows, as dicts, in seq order."""
    env = envelope_of(ctx, number)
    rows = ctx.session.execute(select(H).where(H.c.envelope_id == env.id).order_by(H.c.seq))
    return [dict(r._mapping) for r in rows]


def rewrite(ctx: Ctx, number: str, mutate: Callable[[list[dict[str, Any]]], Any] | None = None,
            *, envelope: dict[str, Any] | None = None, rehash: bool = True,
            renumber: bool = True, sync_envelope: bool = True) -> None:
    """Rewrite an envelope's chain as a forger would, consistently unless told otherwise.

    ``mutate`` edits the list of row dicts in place (edit, drop, insert, reorder); rows
    without an ``id`` are inserted. With ``rehash`` the seq numbers (``renumber``), the
    previous hashes and the hashes are recomputed, so only the edited facts are wrong; a
    row with ``keep_prev`` keeps its own ``prev_hash``. With ``sync_envelope`` the envelope
    row's chain head and holder follow the new chain.
    """
    drop_append_only(ctx)
    env = envelope_of(ctx, number)
    if envelope:
        ctx.session.execute(update(Envelope).where(Envelope.id == env.id).values(**envelope))
        ctx.session.flush()
        env = envelope_of(ctx, number)
    rows = links(ctx, number)
    old_ids = {r["id"] for r in rows}
    if mutate is not None:
        mutate(rows)
    if rehash:
        prev = "0" * 64
        for i, row in enumerate(rows):
            if renumber:
                row["seq"] = i
            if not row.pop("keep_prev", False):
                row["prev_hash"] = prev
            identity = envelope_identity(env) if row["seq"] == 0 else None
            row["hash"] = link_hash(row["prev_hash"], canonical(SimpleNamespace(**row), identity))
            prev = row["hash"]
    keep = {r["id"] for r in rows if r.get("id")}
    session = ctx.session
    gone = old_ids - keep
    if gone:
        session.execute(update(Incident).where(Incident.handoff_id.in_(gone))
                        .values(handoff_id=None))
        session.execute(delete(H).where(H.c.id.in_(gone)))
    # two steps, so that unique (envelope, seq) and unique hash never clash half-way
    for row in rows:
        if row.get("id"):
            session.execute(update(H).where(H.c.id == row["id"]).values(
                seq=-row["id"], hash=f"tmp{row['id']}"))
    for row in rows:
        values = {k: v for k, v in row.items() if k != "id"}
        if row.get("id"):
            session.execute(update(H).where(H.c.id == row["id"]).values(**values))
        else:
            session.execute(insert(H).values(**values))
    if sync_envelope and rows:
        last = rows[-1]
        session.execute(update(Envelope).where(Envelope.id == env.id).values(
            chain_length=len(rows), last_hash=last["hash"], holder_unit_id=last["to_unit_id"],
            holder_user_id=last["to_user_id"], last_event_at=last["event_at"]))
    session.commit()


def link_after(prev: dict[str, Any], kind: EventKind, giver: Any, receiver: Any, *,
               minutes: float = 0.5, **values: Any) -> dict[str, Any]:
    """A new handoff row following ``prev``, signed by the receiver when custody moves."""
    at = prev["event_at"] + timedelta(minutes=minutes)
    moved = giver.id != receiver.id
    row = {k: v for k, v in prev.items() if k not in ("id", "hash")}
    row.update(
        kind=kind, bag_id=None, scan_id=f"forged-{uuid.uuid4()}", from_unit_id=giver.unit_id,
        from_user_id=giver.id, to_unit_id=receiver.unit_id, to_user_id=receiver.id,
        location="", event_at=at, recorded_at=at, seal_state=SealState.NOT_APPLICABLE,
        seal_number=None, count=1, ack_user_id=receiver.id,
        ack_method="pin" if moved else "self", ack_reference=None, device="",
        recorded_by_id=receiver.id, reason=None, authority=None, note="")
    row.update(values)
    return row


def report_of(ctx: Ctx, number: str, **kw: Any) -> EnvelopeReport:
    ctx.session.rollback()
    reports = list(verify(ctx, [number], **kw))
    assert len(reports) == 1
    return reports[0]


def codes(report: EnvelopeReport) -> set[str]:
    return {f.code for f in report.findings}


def index(rows: list[dict[str, Any]], kind: EventKind) -> int:
    return next(i for i, r in enumerate(rows) if r["kind"] == kind)


def later(clock: Clock, days: float) -> datetime:
    return clock.now + timedelta(days=days)


def expect(report: EnvelopeReport, *expected: str, status: str = BROKEN) -> None:
    """Exactly these codes, and the status; every message is filled in, in both languages."""
    assert codes(report) == set(expected), [f.message_en for f in report.findings]
    assert report.status == status
    for f in report.findings:
        assert f.message_vi and f.message_en and "{" not in f.message_en + f.message_vi


# ------------------------------------------------------------------ clean chains


def test_a_delivered_envelope_that_travelled_in_a_bag_is_complete_and_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    report = report_of(ctx, env.number)
    assert report.findings == []
    assert report.status == COMPLETE
    assert report.chain_length == 10
    assert report.due_at is not None


@pytest.mark.parametrize("stage", ["registered", "accepted", "sealed", "received",
                                   "out_for_delivery", "delivered"])
def test_an_envelope_on_its_way_is_in_transit_with_no_finding(
        ctx: Ctx, network: Network, clock: Clock, stage: str) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until=stage)
    report = report_of(ctx, env.number)
    assert report.findings == []
    assert report.status == IN_TRANSIT


def test_top_secret_flash_addressee_only_envelope_passed_to_the_head_is_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, classification=Classification.TOP_SECRET,
                   service=ServiceClass.FLASH, urgency=Urgency.FLASH,
                   recipient_username="cv_hcm", is_addressee_only=True)
    carry(ctx, network, clock, env)
    custody.pass_to_addressee(ctx, network["vt_hcm"], env.number, network["head_hcm"],
                              pin(network["head_hcm"]), new_scan(), clock.tick(),
                              authority=Authority.HEAD_OF_UNIT)
    report = report_of(ctx, env.number)
    assert report.findings == []
    assert report.status == COMPLETE


def test_returned_and_recalled_envelopes_are_complete(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    returned = register(ctx, network)
    carry(ctx, network, clock, returned, until="accepted")
    custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
        number=returned.number, kind=EventKind.RETURNED, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["gd_hn"], receiver=network["vt_bnv"],
        receipt=pin(network["vt_bnv"])))
    recalled = register(ctx, network, recall_by=date(2026, 12, 31))
    carry(ctx, network, clock, recalled)
    custody.record_handoff(ctx, network["vt_hcm"], custody.HandoffRequest(
        number=recalled.number, kind=EventKind.RECALLED, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_hcm"], receiver=network["vt_bnv"],
        receipt=pin(network["vt_bnv"])))
    for number in (returned.number, recalled.number):
        report = report_of(ctx, number)
        assert report.findings == [], report.findings
        assert report.status == COMPLETE


def test_verify_all_reports_every_envelope_in_order(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    first = register(ctx, network)
    carry(ctx, network, clock, first)
    second = register(ctx, network)
    ctx.session.rollback()
    reports = list(verify(ctx))
    assert [r.number for r in reports] == [first.number, second.number]
    assert [r.status for r in reports] == [COMPLETE, IN_TRANSIT]


# ------------------------------------------------------------------ tamper evidence


def test_an_edited_field_gives_chain_hash_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def edit(rows: list[dict[str, Any]]) -> None:
        rows[4]["location"] = "somewhere else"

    rewrite(ctx, env.number, edit, rehash=False)
    report = report_of(ctx, env.number)
    expect(report, "chain_hash_mismatch")
    assert report.findings[0].seq == 4


def test_a_link_that_points_at_another_previous_hash_gives_chain_link_broken(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def relink(rows: list[dict[str, Any]]) -> None:
        rows[3]["prev_hash"] = "ab" * 32
        rows[3]["keep_prev"] = True

    rewrite(ctx, env.number, relink)
    report = report_of(ctx, env.number)
    expect(report, "chain_link_broken")
    assert report.findings[0].seq == 3


def test_a_gap_in_the_numbering_gives_chain_sequence_broken(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def gap(rows: list[dict[str, Any]]) -> None:
        for i, row in enumerate(rows):
            row["seq"] = i if i < 5 else i + 1

    rewrite(ctx, env.number, gap, renumber=False)
    report = report_of(ctx, env.number)
    expect(report, "chain_sequence_broken")
    assert report.findings[0].seq == 6


def test_an_envelope_row_that_claims_another_chain_head_gives_chain_head_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    ctx.session.execute(update(Envelope).where(Envelope.id == env.id).values(chain_length=12))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "chain_head_mismatch")


def test_an_envelope_without_any_handoff_gives_chain_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    rewrite(ctx, env.number, lambda rows: rows.clear())
    expect(report_of(ctx, env.number), "chain_missing")


def test_handoffs_of_a_deleted_envelope_give_envelope_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    kept = register(ctx, network)
    carry(ctx, network, clock, kept)
    gone = register(ctx, network)
    gone_id = gone.id
    carry(ctx, network, clock, gone, until="accepted")
    session = ctx.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))  # no FK checks
        session.execute(delete(Envelope).where(Envelope.id == gone_id))
        session.execute(text("SET session_replication_role = DEFAULT"))
        session.commit()
    else:
        session.commit()
        raw = session.get_bind().raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("DELETE FROM envelope WHERE id = ?", (gone_id,))
            raw.commit()
        finally:
            raw.close()
    reports = list(verify(ctx))
    assert [r.number for r in reports] == [kept.number, f"#{gone_id}"]
    assert reports[0].findings == []
    expect(reports[1], "envelope_missing")


# ------------------------------------------------------------------ rules 1 to 3


def test_an_outer_letter_that_does_not_match_the_classification_gives_mark_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, classification=Classification.SECRET)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, envelope={"mark": "C"})
    expect(report_of(ctx, env.number), "mark_mismatch")


def test_a_top_secret_envelope_in_one_layer_gives_layers_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, classification=Classification.TOP_SECRET)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, envelope={"layers": 1})
    expect(report_of(ctx, env.number), "layers_mismatch")


def test_a_chain_that_starts_at_the_counter_gives_not_registered_before_handoff(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows.pop(0))
    expect(report_of(ctx, env.number), "not_registered_before_handoff")


def test_skipping_a_postal_stage_gives_event_out_of_order(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")

    def skip(rows: list[dict[str, Any]]) -> None:  # straight from the counter to the recipient
        delivered = link_after(rows[-1], EventKind.DELIVERED, network["gd_hn"], network["vt_hcm"])
        rows.append(delivered)
        rows.append(link_after(delivered, EventKind.REGISTERED_INCOMING, network["vt_hcm"],
                               network["vt_hcm"]))

    rewrite(ctx, env.number, skip)
    expect(report_of(ctx, env.number), "event_out_of_order", status=BROKEN)


def test_a_subject_kept_against_the_dated_rule_gives_subject_recorded_against_rule(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """From 2026 (Decree 63/2026) a Tuyệt mật subject is not recorded at all."""
    env = register(ctx, network, classification=Classification.SECRET,
                   subject="Báo cáo quý IV")
    carry(ctx, network, clock, env)
    assert report_of(ctx, env.number).findings == []
    rewrite(ctx, env.number, envelope={"classification": Classification.TOP_SECRET,
                                       "mark": "A", "layers": 2})
    report = report_of(ctx, env.number)
    expect(report, "subject_recorded_against_rule")
    assert "Báo cáo" not in report.findings[0].message_vi + report.findings[0].message_en


# ------------------------------------------------------------------ rules 4 and 5


def test_a_handover_without_the_receivers_signature_gives_receipt_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def unsign(rows: list[dict[str, Any]]) -> None:
        rows[1].update(ack_user_id=None, ack_method=None)

    rewrite(ctx, env.number, unsign)
    report = report_of(ctx, env.number)
    expect(report, "receipt_missing")
    assert report.findings[0].seq == 1


def test_a_handover_signed_by_someone_else_gives_receipt_not_by_receiver(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows[1].update(ack_user_id=network["gd2_hn"].id))
    expect(report_of(ctx, env.number), "receipt_not_by_receiver")


def test_a_paper_receipt_bound_to_no_printed_sheet_gives_paper_receipt_unbound(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Rule A8: free text, or a post-office sheet, is no paper receipt inside a unit."""
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    for reference in ("xyz", None):
        rewrite(ctx, env.number, lambda rows, ref=reference: rows[-2].update(
            ack_method="paper", ack_reference=ref))
        report = report_of(ctx, env.number)
        expect(report, "paper_receipt_unbound")
        assert report.findings[0].seq == 8  # the delivery, signed "on paper"


@pytest.mark.parametrize(("kind", "to", "code"), [
    ("circulated_for_direction", "cv_hcm", "direction_not_by_head"),
    ("circulated_for_handling", "vt_hcm", "circulated_to_self"),
    ("circulated_for_handling", "vt_hn", "circulated_outside_unit"),
    ("handed_over", "vt_hcm", "handed_to_self"),
    ("handed_over", "vt_hn", "handover_outside_unit"),
])
def test_a_pass_inside_a_unit_that_breaks_rules_a6_or_a7_is_reported(
        ctx: Ctx, network: Network, clock: Clock, kind: str, to: str, code: str) -> None:
    """Rules A6, A7: inside the unit that holds it, to someone else, for direction to a head."""
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    custody.record_handoff(ctx, network["vt_hcm"], custody.HandoffRequest(
        number=env.number, kind=EventKind.CIRCULATED_FOR_HANDLING, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_hcm"], receiver=network["cv_hcm"],
        receipt=pin(network["cv_hcm"])))
    expect(report_of(ctx, env.number), status=COMPLETE)
    receiver = network[to]
    rewrite(ctx, env.number, lambda rows: rows[-1].update(
        kind=kind, to_user_id=receiver.id, to_unit_id=receiver.unit_id, ack_user_id=receiver.id))
    expect(report_of(ctx, env.number), code)


def test_a_handover_from_someone_who_did_not_hold_it_gives_giver_not_holder(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def wrong_giver(rows: list[dict[str, Any]]) -> None:
        i = index(rows, EventKind.OUT_FOR_DELIVERY)
        rows[i].update(from_unit_id=network["gd_hn"].unit_id, from_user_id=network["gd_hn"].id)

    rewrite(ctx, env.number, wrong_giver)
    expect(report_of(ctx, env.number), "giver_not_holder")


def test_a_link_that_leaves_nobody_holding_the_envelope_gives_holder_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows[-1].update(to_user_id=None))
    expect(report_of(ctx, env.number), "holder_missing")


def test_a_void_of_a_milestone_gives_void_invalid(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Only a handoff without a milestone can be voided (issue 13): a ``voided`` link after
    the incoming register is forged."""
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    clerk = network["vt_hcm"]

    def void_register(rows: list[dict[str, Any]]) -> None:
        rows.append(link_after(rows[-1], EventKind.VOIDED, clerk, clerk, note="void"))

    rewrite(ctx, env.number, void_register)
    expect(report_of(ctx, env.number), "void_invalid")


def test_a_void_by_the_service_verifies_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="out_for_delivery")
    custody.void_last_scan(ctx, network["gd_hcm"], env.number, "Nhầm bưu tá", new_scan())
    expect(report_of(ctx, env.number), status=IN_TRANSIT)


def test_an_envelope_row_naming_another_holder_gives_holder_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    ctx.session.execute(update(Envelope).where(Envelope.id == env.id).values(
        holder_user_id=network["cv_hcm"].id))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "holder_mismatch")


def test_an_event_timed_before_the_previous_one_gives_time_backwards(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def backwards(rows: list[dict[str, Any]]) -> None:
        rows[2]["event_at"] = rows[1]["event_at"] - timedelta(minutes=1)

    rewrite(ctx, env.number, backwards)
    report = report_of(ctx, env.number)
    expect(report, "time_backwards")
    assert report.findings[0].seq == 2


def test_an_event_timed_in_the_future_gives_event_in_future(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def future(rows: list[dict[str, Any]]) -> None:
        ahead = clock.now + timedelta(hours=1)
        rows[-1].update(event_at=ahead, recorded_at=ahead)

    rewrite(ctx, env.number, future)
    expect(report_of(ctx, env.number), "event_in_future")


def test_a_device_clock_far_from_the_server_gives_device_clock_skew(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)

    def skew(rows: list[dict[str, Any]]) -> None:  # the device ran 10 minutes ahead
        rows[-1]["recorded_at"] = rows[-1]["event_at"] - timedelta(minutes=10)

    rewrite(ctx, env.number, skew)
    expect(report_of(ctx, env.number), "device_clock_skew")


# ------------------------------------------------------------------ rule 6


def test_a_receipt_signed_while_a_discrepancy_was_open_gives_receipt_over_open_discrepancy(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")
    accepted = links(ctx, env.number)[1]
    ctx.session.add(Incident(
        kind=IncidentKind.DISCREPANCY, envelope_id=env.id, unit_id=network["gd_hn"].unit_id,
        reported_by_id=network["gd_hn"].id, report="Thiếu 1 bản", details={},
        opened_at=accepted["recorded_at"] - timedelta(minutes=1)))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "receipt_over_open_discrepancy", status=BROKEN)


def test_a_receipt_signed_after_the_discrepancy_was_settled_is_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")
    accepted = links(ctx, env.number)[1]
    ctx.session.add(Incident(
        kind=IncidentKind.DISCREPANCY, envelope_id=env.id, unit_id=network["gd_hn"].unit_id,
        reported_by_id=network["gd_hn"].id, report="Thiếu 1 bản", details={},
        opened_at=accepted["recorded_at"] - timedelta(minutes=10),
        resolved_at=accepted["recorded_at"] - timedelta(minutes=2), status="resolved"))
    ctx.session.commit()
    assert report_of(ctx, env.number).findings == []


# ------------------------------------------------------------------ rule 7


def _broken_seal(ctx: Ctx, network: Network, clock: Clock) -> tuple[Envelope, Incident]:
    env = register(ctx, network)
    out = carry(ctx, network, clock, env, until="dispatched")
    result = bagging.receive_bag(
        ctx, network["gd_hcm"], out["bag"], network["bt_hn"], "NP-000123", pin(network["gd_hcm"]),
        new_scan(), clock.tick(60), seal_state=SealState.BROKEN,
        incident_report="Dây niêm phong bị đứt", courier_receipt=pin(network["bt_hn"]))
    assert result.incident is not None
    return env, result.incident


def test_a_broken_seal_reported_with_an_incident_gives_seal_anomaly(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env, _incident = _broken_seal(ctx, network, clock)
    report = report_of(ctx, env.number)
    expect(report, "seal_anomaly")
    assert report.findings[0].seq == 5


@pytest.mark.parametrize(("change", "code"), [
    ("delete", "seal_anomaly_unreported"),
    ({"report": ""}, "seal_incident_without_report"),
])
def test_a_seal_anomaly_without_a_full_incident_gives_its_own_code(
        ctx: Ctx, network: Network, clock: Clock, change: Any, code: str) -> None:
    env, incident = _broken_seal(ctx, network, clock)
    if change == "delete":
        ctx.session.execute(update(Scan).where(Scan.incident_id == incident.id)
                            .values(incident_id=None))
        ctx.session.execute(delete(Incident).where(Incident.id == incident.id))
    else:
        ctx.session.execute(update(Incident).where(Incident.id == incident.id).values(**change))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "seal_anomaly", code)


# ------------------------------------------------------------------ rule 8: bags


def test_a_bag_event_missing_its_bag_gives_bag_custody_gap(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number,
            lambda rows: rows[index(rows, EventKind.BAG_RECEIVED)].update(bag_id=None))
    expect(report_of(ctx, env.number), "bag_custody_gap")


def test_a_seal_number_at_arrival_other_than_at_sealing_gives_seal_number_changed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number,
            lambda rows: rows[index(rows, EventKind.BAG_RECEIVED)].update(seal_number="NP-999"))
    expect(report_of(ctx, env.number), "seal_number_changed")


def test_an_envelope_the_manifest_does_not_show_found_gives_manifest_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    ctx.session.execute(update(ManifestLine).where(ManifestLine.envelope_id == env.id)
                        .values(found_at_opening=False))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "manifest_mismatch")


def test_an_envelope_missing_from_its_opened_bag_gives_manifest_mismatch(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    lost = register(ctx, network)
    found = register(ctx, network)
    custody.accept_at_counter(ctx, network["gd_hn"], lost.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["vt_bnv"]))
    custody.accept_at_counter(ctx, network["gd_hn"], found.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["vt_bnv"]))
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    for number in (lost.number, found.number):
        bagging.add_to_bag(ctx, network["gd_hn"], bag, number, new_scan(), clock.tick())
    bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-7", new_scan(), clock.tick())
    bagging.dispatch_bag(ctx, network["gd_hn"], bag, network["bt_hn"], pin(network["bt_hn"]),
                         new_scan(), clock.tick(), vehicle="29A", is_dedicated_vehicle=True)
    bagging.receive_bag(ctx, network["gd_hcm"], bag, network["bt_hn"], "NP-7",
                        pin(network["gd_hcm"]), new_scan(), clock.tick(),
                        courier_receipt=pin(network["bt_hn"]))
    result = bagging.open_bag_contents(ctx, network["gd_hcm"], bag, [found.number], new_scan(),
                                       clock.tick())
    assert result.missing == [lost.number]
    expect(report_of(ctx, lost.number), "manifest_mismatch")
    assert report_of(ctx, found.number).findings == []


def test_a_top_secret_envelope_in_a_bag_without_a_tracker_gives_bag_tracker_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, classification=Classification.TOP_SECRET)
    out = carry(ctx, network, clock, env)
    ctx.session.execute(update(Bag).where(Bag.number == out["bag"]).values(tracker_id=None))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "bag_tracker_missing")


def test_a_bag_in_a_shared_vehicle_without_an_escort_gives_bag_escort_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    out = carry(ctx, network, clock, env)
    ctx.session.execute(update(Bag).where(Bag.number == out["bag"]).values(
        is_dedicated_vehicle=False, escort_name=None))
    ctx.session.commit()
    expect(report_of(ctx, env.number), "bag_escort_missing")


# ------------------------------------------------------------------ rules 9 to 11


def test_passing_an_envelope_on_before_registering_it_gives_arrival_unregistered(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="delivered")
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.PASSED_TO_ADDRESSEE, network["vt_hcm"], network["head_hcm"])))
    expect(report_of(ctx, env.number), "arrival_unregistered")


def test_an_envelope_delivered_but_not_registered_by_the_next_working_day_is_overdue(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="delivered")
    report = report_of(ctx, env.number, now=later(clock, 5))
    expect(report, "arrival_registration_late", status=OVERDUE)
    assert report.findings[0].severity == OVERDUE


def test_an_addressee_only_envelope_given_to_another_person_gives_addressee_only_violated(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, recipient_username="cv_hcm", is_addressee_only=True)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.PASSED_TO_ADDRESSEE, network["vt_hcm"], network["head_hcm"],
        authority=Authority.ADDRESSEE)))
    expect(report_of(ctx, env.number), "addressee_only_violated")


def test_an_addressee_only_standard_envelope_given_to_the_head_gives_addressee_only_violated(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, recipient_username="cv_hcm", is_addressee_only=True)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.PASSED_TO_ADDRESSEE, network["vt_hcm"], network["head_hcm"],
        authority=Authority.HEAD_OF_UNIT)))
    expect(report_of(ctx, env.number), "addressee_only_violated")


def test_an_authorised_person_without_the_written_authorisation_gives_addressee_only_violated(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """The write path refuses a Hỏa tốc addressee-only envelope passed to an authorised
    person unless the note names the head's written authorisation; the verifier agrees."""
    env = register(ctx, network, recipient_username="cv_hcm", is_addressee_only=True,
                   service=ServiceClass.FLASH)
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.PASSED_TO_ADDRESSEE, network["vt_hcm"], network["bm_hcm"],
        authority=Authority.AUTHORISED, note="")))
    expect(report_of(ctx, env.number), "addressee_only_violated")


def test_an_authorised_person_with_the_written_authorisation_is_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, recipient_username="cv_hcm", is_addressee_only=True,
                   service=ServiceClass.FLASH)
    carry(ctx, network, clock, env)
    custody.pass_to_addressee(ctx, network["vt_hcm"], env.number, network["bm_hcm"],
                              pin(network["bm_hcm"]), new_scan(), clock.tick(),
                              authority=Authority.AUTHORISED,
                              note="Giấy ủy quyền số 12/UQ ngày 20/11/2026")
    assert "addressee_only_violated" not in codes(report_of(ctx, env.number))


def test_a_recalled_document_not_back_by_its_date_gives_recall_overdue(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, recall_by=date(2026, 12, 1))
    carry(ctx, network, clock, env)
    assert report_of(ctx, env.number).findings == []
    report = report_of(ctx, env.number, now=datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    expect(report, "recall_overdue", status=OVERDUE)


# ------------------------------------------------------------------ time limits


def test_an_envelope_with_no_delivery_attempt_by_its_deadline_gives_deadline_missed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="dispatched")
    assert report_of(ctx, env.number).status == IN_TRANSIT
    report = report_of(ctx, env.number, now=later(clock, 10))
    expect(report, "deadline_missed", status=OVERDUE)


def test_an_envelope_delivered_late_is_complete_with_a_deadline_missed_notice(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="opened")
    clock.tick(60 * 24 * 10)
    carry_rest(ctx, network, clock, env.number)
    report = report_of(ctx, env.number)
    expect(report, "deadline_missed", status=COMPLETE)
    assert report.findings[0].severity == "notice"


def carry_rest(ctx: Ctx, network: Network, clock: Clock, number: str) -> None:
    custody.record_handoff(ctx, network["gd_hcm"], custody.HandoffRequest(
        number=number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["gd_hcm"], receiver=network["bt_hcm"],
        receipt=pin(network["bt_hcm"])))
    custody.deliver(ctx, network["bt_hcm"], number, network["vt_hcm"], pin(network["vt_hcm"]),
                    new_scan(), clock.tick())
    custody.register_arrival(ctx, network["vt_hcm"], number, new_scan(), clock.tick())


def test_an_envelope_with_no_time_limit_in_force_gives_deadline_rule_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    ctx.session.execute(delete(DeadlineRule))
    ctx.session.commit()
    env = register(ctx, network)
    carry(ctx, network, clock, env)
    expect(report_of(ctx, env.number), "deadline_rule_missing", status=COMPLETE)


# ------------------------------------------------------------------ rules P1 to P3: copies


def _copies(ctx: Ctx, network: Network, count: int = 1) -> list[Envelope]:
    from kt1.services.copies import make_copies

    original = register(ctx, network)
    return make_copies(ctx, network["vt_bnv"], original.number, approved_by="head_bnv",
                       count=count)


def test_a_copy_without_a_valid_approval_gives_copy_unapproved(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """docs/rules.md, rule P1: a copy with no approver, no approval date, or an approver
    not entitled in the copying unit (the rows rewritten and re-sealed as a forger would)."""
    a, b, c = _copies(ctx, network, 3)
    expect(report_of(ctx, a.number), status=IN_TRANSIT)
    rewrite(ctx, a.number, envelope={"copy_approved_by_id": None})
    expect(report_of(ctx, a.number), "copy_unapproved")
    rewrite(ctx, b.number, envelope={"copy_approved_on": None})
    expect(report_of(ctx, b.number), "copy_unapproved")
    rewrite(ctx, c.number, envelope={"copy_approved_by_id": network["vt_bnv"].id})
    report = report_of(ctx, c.number)
    expect(report, "copy_unapproved")
    assert network["vt_bnv"].full_name in report.findings[0].message_vi
    # a person listed for the unit is entitled; a head of another unit is not
    from kt1.services.copies import add_approver
    add_approver(ctx, None, "BNV", "vt_bnv")
    expect(report_of(ctx, c.number), status=IN_TRANSIT)
    rewrite(ctx, c.number, envelope={"copy_approved_by_id": network["head_hcm"].id})
    expect(report_of(ctx, c.number), "copy_unapproved")


def test_copies_numbered_with_a_gap_or_beyond_their_total_give_copy_number_out_of_sequence(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """docs/rules.md, rule P2: per original, 1..k without a gap or a repeat, n <= N."""
    a, b, c = _copies(ctx, network, 3)
    rewrite(ctx, c.number, envelope={"copy_no": 4})  # 4/3
    expect(report_of(ctx, c.number), "copy_number_out_of_sequence")
    rewrite(ctx, c.number, envelope={"copy_no": 3})
    expect(report_of(ctx, c.number), status=IN_TRANSIT)
    # Bản số 2 renumbered 4/4: 2 is missing, for it and for Bản số 3
    rewrite(ctx, b.number, envelope={"copy_no": 4, "copy_total": 4})
    report = report_of(ctx, b.number)
    expect(report, "copy_number_out_of_sequence")
    assert "thiếu bản số 2" in report.findings[0].message_vi
    expect(report_of(ctx, c.number), "copy_number_out_of_sequence")
    expect(report_of(ctx, a.number), status=IN_TRANSIT)


def test_a_copy_whose_original_is_not_on_record_gives_copy_original_unknown(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """docs/rules.md, rule P3 (the foreign key dropped, as an insider could)."""
    (a,) = _copies(ctx, network)
    number = a.number
    drop_append_only(ctx)
    env = envelope_of(ctx, number)
    (first,) = links(ctx, number)
    ctx.session.expunge(env)
    env.copy_of_id = 987654  # re-sealed with the forged original
    sealed = link_hash(first["prev_hash"], canonical(SimpleNamespace(**first),
                                                     envelope_identity(env)))
    engine = ctx.session.get_bind()
    ctx.session.rollback()
    if engine.dialect.name == "postgresql":
        ctx.session.execute(text(
            "ALTER TABLE envelope DROP CONSTRAINT fk_envelope_copy_of_id_envelope"))
        ctx.session.commit()
    raw = engine.raw_connection()
    try:  # SQLite checks foreign keys per connection: one of its own, checks off
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA foreign_keys=OFF")
        # a hex digest and ids this test computed, not input
        cur.execute(f"UPDATE envelope SET copy_of_id = 987654, last_hash = '{sealed}' "  # noqa: S608
                    f"WHERE id = {int(env.id)}")
        cur.execute(f"UPDATE handoff SET hash = '{sealed}' WHERE id = {int(first['id'])}")  # noqa: S608
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA foreign_keys=ON")
        raw.commit()
    finally:
        raw.close()
    expect(report_of(ctx, number), "copy_original_unknown")


# ------------------------------------------------------------------ rules P4 to P7: terms

LIFE_DECISION = {"decision_number": "15/QĐ-UBND", "decided_by": "Nguyễn Văn Quyết"}


def test_a_classified_document_without_a_term_gives_protection_term_missing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    expect(report_of(ctx, env.number), status=IN_TRANSIT)
    rewrite(ctx, env.number, envelope={"protection_until": None})
    expect(report_of(ctx, env.number), "protection_term_missing", status=BROKEN)
    rewrite(ctx, env.number, envelope={"protection_until": date(2036, 1, 1),
                                       "classified_on": None})
    expect(report_of(ctx, env.number), "protection_term_missing", status=BROKEN)
    # an unclassified item, or a fully declassified one, needs none
    plain = register(ctx, network, classification=Classification.UNCLASSIFIED)
    expect(report_of(ctx, plain.number), status=IN_TRANSIT)
    rewrite(ctx, env.number, envelope={"secrecy": "declassified"})
    expect(report_of(ctx, env.number), status=IN_TRANSIT)


def test_a_term_longer_than_the_rule_gives_protection_term_too_long_unless_extended(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from kt1.services import protection

    env = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2026, 1, 5))  # Law 29/2018 then: 10 years
    carry(ctx, network, clock, env)
    rewrite(ctx, env.number, envelope={"protection_until": date(2041, 1, 5)})
    report = report_of(ctx, env.number)
    expect(report, "protection_term_too_long")
    assert "2036-01-05" in report.findings[0].message_vi
    # the same end reached by a recorded extension is within the rule
    rewrite(ctx, env.number, envelope={"protection_until": date(2036, 1, 5)})
    protection.extend(ctx, network["vt_hcm"], env.number, new_until=date(2041, 1, 5),
                      **LIFE_DECISION)
    expect(report_of(ctx, env.number), status=COMPLETE)
    rewrite(ctx, env.number, envelope={"protection_until": date(2041, 1, 6)})
    expect(report_of(ctx, env.number), "protection_term_too_long")


def _destroyed(ctx: Ctx, network: Network, clock: Clock) -> Envelope:
    from kt1.services import protection

    env = register(ctx, network)
    carry(ctx, network, clock, env)
    protection.destroy(ctx, network["vt_hcm"], env.number, record_number="BB-1",
                       council_members=["Trần Văn An", "Lê Thị Bình"], **LIFE_DECISION)
    expect(report_of(ctx, env.number), status=COMPLETE)
    return env


def test_a_link_after_the_destruction_gives_used_after_destruction(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = _destroyed(ctx, network, clock)
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.CIRCULATED_FOR_HANDLING, network["vt_hcm"], network["cv_hcm"])))
    report = report_of(ctx, env.number)
    expect(report, "used_after_destruction")
    assert report.findings[0].seq == 11  # after the ten links of the journey and the destruction


def test_a_destruction_without_its_record_gives_destruction_needs_decision(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = _destroyed(ctx, network, clock)

    def no_record(rows: list[dict[str, Any]]) -> None:
        rows[-1]["note"] = "decision=15/QĐ-UBND; council=1"

    rewrite(ctx, env.number, no_record)
    expect(report_of(ctx, env.number), "destruction_needs_decision", status=BROKEN)


def test_a_decision_recorded_in_transit_gives_item_in_transit(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")  # held by gd_hn at the counter
    rewrite(ctx, env.number, lambda rows: rows.append(link_after(
        rows[-1], EventKind.DECLASSIFIED, network["gd_hn"], network["gd_hn"],
        note="decision=15/QĐ-UBND; scope=full")))
    expect(report_of(ctx, env.number), "item_in_transit")


# ------------------------------------------------------------------ coverage


def test_every_finding_code_has_a_test_that_breaks_exactly_its_rule() -> None:
    """Each code appears in an ``expect(...)`` of this module or of test_tamper.py."""
    import re
    from pathlib import Path

    here = Path(__file__).parent
    source = "".join((here / name).read_text() for name in ("test_verify.py", "test_tamper.py"))
    asserted = set(re.findall(r'"([a-z_]+)"', source)) & set(FINDINGS)
    assert asserted == set(FINDINGS), sorted(set(FINDINGS) - asserted)


def test_findings_never_show_a_subject(ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, subject="Kế hoạch bí mật XYZ")
    carry(ctx, network, clock, env, until="dispatched")
    report = report_of(ctx, env.number, now=later(clock, 10))
    assert report.findings
    for f in report.findings:
        assert "XYZ" not in f.message_en + f.message_vi


def test_report_incident_is_the_way_a_discrepancy_reaches_verify(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """A discrepancy opened through the service blocks signing; verify stays clean."""
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")
    report_incident(ctx, network["gd_hn"], IncidentKind.DISCREPANCY, "Sai số bản",
                    number=env.number)
    assert report_of(ctx, env.number).findings == []


# ------------------------------------------------------------------ the fast path


def test_worker_processes_give_the_same_reports_as_one_process(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Blocks of envelopes checked by forked workers (PostgreSQL) agree with one process."""
    numbers = []
    for note in ("", 'có "ngoặc kép" và \\ gạch chéo', "bình thường"):
        env = register(ctx, network, document_number=f'15/"KH"-{len(numbers)}')
        carry(ctx, network, clock, env)
        custody.record_handoff(ctx, network["vt_hcm"], custody.HandoffRequest(
            number=env.number, kind=EventKind.PASSED_TO_ADDRESSEE, scan_id=new_scan(),
            event_at=clock.tick(), giver=network["vt_hcm"], receiver=network["head_hcm"],
            receipt=pin(network["head_hcm"]), note=note))
        numbers.append(env.number)
    drop_append_only(ctx)
    ctx.session.execute(text("UPDATE handoff SET device = 'x' WHERE id = (SELECT min(id) "
                             "FROM handoff WHERE seq = 3)"))
    ctx.session.commit()

    def summary(reports: list[EnvelopeReport]) -> list[tuple[Any, ...]]:
        return [(r.number, r.status, [(f.code, f.seq) for f in r.findings], r.chain_length,
                 r.due) for r in reports]

    ctx.session.rollback()
    alone = summary(list(verify(ctx, workers=1)))
    together = summary(list(verify(ctx, workers=2, block=1)))
    assert together == alone
    assert [r[0] for r in alone] == numbers
    assert [r[1] for r in alone] == [BROKEN, COMPLETE, COMPLETE]
    assert alone[0][2] == [("chain_hash_mismatch", 3)]


def test_the_fast_formatter_gives_the_canonical_bytes_for_awkward_text(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Quotes, backslashes, Vietnamese and emoji: the chain still verifies."""
    env = register(ctx, network, document_number='A\\"B/ĐỀ-😀')
    carry(ctx, network, clock, env, until="accepted")
    custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
        number=env.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["gd_hn"], receiver=network["bt_hn"],
        receipt=pin(network["bt_hn"]), note='ghi chú "trong ngoặc" \\ và 😀',
        location="Kho \\N số 2"))
    # no double quote: the fast path pastes COPY's escaped backslashes as they are
    custody.record_handoff(ctx, network["bt_hn"], custody.HandoffRequest(
        number=env.number, kind=EventKind.DELIVERY_FAILED, scan_id=new_scan(),
        event_at=clock.tick(), reason=DeliveryFailure.UNIT_CLOSED,
        note="C:\\kho\\n\\t 😀", location="\\N"))
    report = report_of(ctx, env.number)
    assert report.findings == []


def test_an_envelope_left_with_a_deactivated_account_is_broken(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """docs/rules.md, rule A6: what a person holds is handed over before their account is
    closed; an item still held by a deactivated account (records from before that was
    refused) is flagged, and only that one."""
    held = register(ctx, network)
    carry(ctx, network, clock, held, until="accepted")  # held by gd_hn at the counter
    other = register(ctx, network)  # held by vt_bnv, who stays active
    clerk = network["gd_hn"]
    clerk.is_active = False
    ctx.session.commit()
    report = report_of(ctx, held.number)
    assert report.codes == ["held_by_inactive_user"]
    assert report.status == BROKEN
    assert clerk.full_name in report.findings[0].message_vi
    assert report_of(ctx, other.number).codes == []
    clerk.is_active = True
    ctx.session.commit()
    assert report_of(ctx, held.number).codes == []


# ------------------------------------------------------------------ rule T2: incidents


def test_an_incident_left_unacknowledged_past_its_working_day_gives_incident_unacknowledged(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from kt1.services.incidents import acknowledge

    env, incident = _broken_seal(ctx, network, clock)  # on the bag the envelope was in
    opened = incident.opened_at  # Monday 23/11/2026; Tuesday 24/11 is a public holiday
    # within one working day (the holiday does not count): only the anomaly
    expect(report_of(ctx, env.number, now=opened + timedelta(hours=47)), "seal_anomaly")
    late = report_of(ctx, env.number, now=opened + timedelta(days=2, minutes=1))
    expect(late, "seal_anomaly", "incident_unacknowledged")
    found = next(f for f in late.findings if f.code == "incident_unacknowledged")
    assert found.severity == OVERDUE and str(incident.id) in found.message_en
    acknowledge(ctx, network["head_bnv"], incident.id)
    expect(report_of(ctx, env.number, now=opened + timedelta(days=3)), "seal_anomaly")


def test_the_time_to_acknowledge_counts_working_days_and_follows_the_setting(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from dataclasses import replace

    env = register(ctx, network)
    # Friday 27/11/2026 16:00 in Vietnam: one working day runs until Monday 16:00
    clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "bì bị rách",
                               number=env.number)
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    expect(report_of(ctx, env.number, now=monday - timedelta(minutes=1)), status=IN_TRANSIT)
    expect(report_of(ctx, env.number, now=monday + timedelta(minutes=1)),
           "incident_unacknowledged", status=OVERDUE)
    ctx.settings = replace(ctx.settings, incident_ack_working_days=2)
    expect(report_of(ctx, env.number, now=monday + timedelta(minutes=1)), status=IN_TRANSIT)
    assert incident.acknowledged_at is None
