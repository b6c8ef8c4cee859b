"""Internal circulation through the scanner API (docs/rules.md rule A7):
``POST /envelopes/{number}/circulate`` and ``GET /held``. Receipts by PIN or badge, scan-id
replays, machine-readable refusals that write nothing, another unit's number answered as an
unknown one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from tests.api.conftest import Scanner, iso, scan_id
from tests.conftest import PIN, Clock, Network
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


class Times:
    """Device times in the recent past that only move forward."""

    def __init__(self) -> None:
        self.t = datetime.now(UTC) - timedelta(hours=1)

    def next(self) -> str:
        self.t += timedelta(minutes=2)
        return iso(self.t)


def arrived(ctx: Ctx, network: Network, clock: Clock, **kw: Any) -> str:
    envelope = register(ctx, network, **kw)
    carry(ctx, network, clock, envelope)
    ctx.session.commit()
    return envelope.number


def body(t: Times, kind: str, operator: str, receiver: str, secret: str = PIN,
         method: str = "pin", **kw: Any) -> dict[str, Any]:
    return {"scan_id": scan_id(), "operator": operator, "kind": kind, "event_at": t.next(),
            "receiver": receiver, "receipt": {"method": method, "secret": secret}, **kw}


def test_registry_head_officer_registry_through_the_api(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner]) -> None:
    number = arrived(ctx, network, clock)
    hcm, t = scanner("UBND-HCM"), Times()
    held = hcm.get("/held?operator=vt_hcm")
    assert held.status_code == 200 and [e["number"] for e in held.json["envelopes"]] == [number]

    first = body(t, "circulated_for_direction", "vt_hcm", "head_hcm",
                 note="Giao đ/c Ngọc xử lý")
    r = hcm.post(f"/envelopes/{number}/circulate", first)
    assert r.status_code == 201, r.json
    assert r.json["handoff"]["kind"] == "circulated_for_direction"
    assert r.json["handoff"]["acknowledged_by"] == "head_hcm"
    assert r.json["envelope"]["holder"] == {"unit": "UBND-HCM", "user": "head_hcm"}
    assert r.json["envelope"]["status"] == "arrived"
    again = hcm.post(f"/envelopes/{number}/circulate", first)
    assert again.status_code == 200 and again.json == r.json  # a replay writes nothing
    assert hcm.get("/held?operator=vt_hcm").json["envelopes"] == []
    assert [e["number"] for e in hcm.get("/held?operator=head_hcm").json["envelopes"]] == [
        number]

    r = hcm.post(f"/envelopes/{number}/circulate", body(
        t, "circulated_for_handling", "head_hcm", "cv_hcm", method="badge",
        secret=network.badges["cv_hcm"]))
    assert r.status_code == 201, r.json
    # the registry clerk records the return at her device; the officer identifies as giver
    r = hcm.post(f"/envelopes/{number}/circulate", body(
        t, "circulated_to_registry", "vt_hcm", "vt_hcm", giver="cv_hcm",
        giver_receipt={"method": "pin", "secret": PIN}))
    assert r.status_code == 201, r.json
    final = hcm.get(f"/envelopes/{number}").json
    assert final["holder"] == {"unit": "UBND-HCM", "user": "vt_hcm"}
    assert final["chain_length"] == 13


@pytest.mark.parametrize(("change", "status", "slug"), [
    ({"kind": "circulated_for_direction", "receiver": "cv_hcm"}, 422, "direction_needs_head"),
    ({"receiver": "vt_hn"}, 403, "wrong_unit"),
    ({"receiver": "vt_hcm"}, 422, "handed_to_self"),
    ({"receiver": "bm_hcm"}, 403, "forbidden"),
    ({"receipt": {"method": "pin", "secret": "0000"}}, 422, "acknowledgement_invalid"),
    ({"receipt": {"method": "paper", "reference": "X"}}, 422, "invalid_request"),
    ({"receipt": None}, 422, "invalid_request"),
    ({"kind": "accepted"}, 422, "invalid_request"),
    ({"note": "x" * 201}, 422, "invalid_request"),
    ({"operator": "cv_hcm", "giver": "vt_hcm"}, 422, "giver_identification_missing"),
    ({"operator": "head_hcm"}, 409, "not_current_holder"),
    ({"operator": "vt_hn"}, 403, "wrong_unit"),
])
def test_each_refusal_is_machine_readable_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner],
        snapshot: Snapshot, change: dict[str, Any], status: int, slug: str) -> None:
    number = arrived(ctx, network, clock)
    hcm = scanner("UBND-HCM")
    ctx.session.commit()
    sent = {**body(Times(), "circulated_for_handling", "vt_hcm", "cv_hcm"), **change}
    sent = {k: v for k, v in sent.items() if v is not None}
    before = snapshot()
    r = hcm.post(f"/envelopes/{number}/circulate", sent)
    assert (r.status_code, r.json["error"]) == (status, slug), r.json
    if slug != "invalid_request":
        assert r.json["errors"]["message_vi"]
    assert snapshot() == before


def test_the_stage_and_the_addressee_are_judged(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner]) -> None:
    named = arrived(ctx, network, clock, recipient_username="cv_hcm", is_addressee_only=True)
    delivered = register(ctx, network)
    carry(ctx, network, clock, delivered, until="delivered")
    ctx.session.commit()
    hcm, t = scanner("UBND-HCM"), Times()
    r = hcm.post(f"/envelopes/{named}/circulate",
                 body(t, "circulated_for_direction", "vt_hcm", "head_hcm"))
    assert (r.status_code, r.json["error"]) == (409, "addressee_first")
    r = hcm.post(f"/envelopes/{delivered.number}/circulate",
                 body(t, "circulated_for_handling", "vt_hcm", "cv_hcm"))
    assert (r.status_code, r.json["error"]) == (409, "event_out_of_order")


def test_another_units_number_answers_as_an_unknown_one(
        app: Any, ctx: Ctx, network: Network, clock: Clock,
        scanner: Callable[[str], Scanner], snapshot: Snapshot) -> None:
    number = arrived(ctx, network, clock)
    hn = scanner("UBND-HN")
    ctx.session.commit()
    never = format_number(app.config["SERVICE_LETTERS"], 999_999, app.config["COUNTRY_CODE"])
    before = snapshot()
    answers = []
    for n in (number, never):
        r = hn.post(f"/envelopes/{n}/circulate",
                    body(Times(), "circulated_for_handling", "vt_hn", "vt_hcm"))
        answers.append((r.status_code, r.json["error"],
                        r.json["message"].replace(n, "N"),
                        r.json["errors"]["message_vi"].replace(n, "N")))
    assert answers[0] == answers[1] and answers[0][:2] == (404, "unknown_envelope")
    assert snapshot() == before
    assert hn.get("/held?operator=vt_hn").json["envelopes"] == []


def test_a_reused_scan_id_with_other_content_is_refused(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner]) -> None:
    number = arrived(ctx, network, clock)
    hcm, t = scanner("UBND-HCM"), Times()
    ctx.session.commit()
    first = body(t, "circulated_for_handling", "vt_hcm", "cv_hcm")
    assert hcm.post(f"/envelopes/{number}/circulate", first).status_code == 201
    other = {**first, "note": "khác"}
    r = hcm.post(f"/envelopes/{number}/circulate", other)
    assert (r.status_code, r.json["error"]) == (409, "scan_id_conflict")


def test_held_needs_an_operator_of_the_devices_unit(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    hcm = scanner("UBND-HCM")
    ctx.session.commit()
    r = hcm.get("/held?operator=vt_hn")
    assert (r.status_code, r.json["error"]) == (403, "wrong_unit")
    assert hcm.get("/held").status_code == 422
    assert hcm.client.get("/api/v1/held?operator=vt_hcm").status_code == 401
