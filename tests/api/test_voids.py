"""Voiding a scan from a device (hủy lần quét nhầm, docs/rules.md rule 5):
``POST /envelopes/{number}/void``. The operator voids their own last scan within
VOID_WINDOW_MINUTES, with a reason: a ``voided`` link gives the envelope back, nothing is
deleted, ``kt1 verify`` is clean. Refusals are slugs and write nothing; another unit's number
answers as an unknown one; a replayed scan id returns the stored result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from tests.api.conftest import Scanner, scan_id
from tests.api.test_circulation import Times
from tests.conftest import PIN, Clock, Network
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def at_office(ctx: Ctx, network: Network, clock: Clock) -> str:
    """An envelope for UBND-HCM out of its bag at BC-HCM, held by gd_hcm (on the test clock,
    days before the device's scans)."""
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="opened")
    ctx.session.commit()
    return envelope.number


def out_body(number: str, t: Times) -> dict[str, Any]:
    return {"scan_id": scan_id(), "operator": "gd_hcm", "number": number,
            "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hcm",
            "receiver": "bt_hcm", "receipt": {"method": "pin", "secret": PIN}}


def void_body(operator: str = "gd_hcm", reason: str = "Giao nhầm bưu tá") -> dict[str, Any]:
    return {"scan_id": scan_id(), "operator": operator, "reason": reason}


def verify_cli(app: Flask, number: str) -> Any:
    return app.test_cli_runner().invoke(args=["verify", number], catch_exceptions=False)


def test_the_operator_voids_the_scan_and_the_chain_verifies(
        app: Flask, ctx: Ctx, network: Network, clock: Clock,
        scanner: Callable[[str], Scanner], snapshot: Snapshot) -> None:
    number = at_office(ctx, network, clock)
    hcm, t = scanner("BC-HCM"), Times()
    out = hcm.post("/handoffs", out_body(number, t))
    assert out.status_code == 201, out.json
    assert out.json["envelope"]["holder"] == {"unit": "BC-HCM", "user": "bt_hcm"}

    sent = void_body()
    r = hcm.post(f"/envelopes/{number}/void", sent)
    assert r.status_code == 201, r.json
    link = r.json["handoff"]
    assert link["kind"] == "voided"
    assert link["seq"] == out.json["handoff"]["seq"] + 1
    assert r.json["envelope"]["holder"] == {"unit": "BC-HCM", "user": "gd_hcm"}
    assert r.json["envelope"]["status"] == "at_office"
    assert r.json["envelope"]["chain_length"] == out.json["envelope"]["chain_length"] + 1

    before = snapshot()
    again = hcm.post(f"/envelopes/{number}/void", sent)
    assert again.status_code == 200 and again.json == r.json  # a replay writes nothing
    assert snapshot() == before
    other = hcm.post(f"/envelopes/{number}/void", {**sent, "reason": "Lý do khác"})
    assert (other.status_code, other.json["error"]) == (409, "scan_id_conflict")

    verified = verify_cli(app, number)
    assert verified.exit_code == 0, verified.output
    # the chain goes on from the restored state: out again, to the right courier (the void
    # is dated by the server's clock, so the next scan comes after it)
    t.t = datetime.now(UTC)
    again_out = hcm.post("/handoffs", out_body(number, t))
    assert again_out.status_code == 201, again_out.json
    assert verify_cli(app, number).exit_code == 0


def test_only_the_operator_voids_and_only_within_the_window(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = at_office(ctx, network, clock)
    hcm, t = scanner("BC-HCM"), Times()
    assert hcm.post("/handoffs", out_body(number, t)).status_code == 201
    before = snapshot()
    r = hcm.post(f"/envelopes/{number}/void", void_body("bt_hcm"))  # the receiver, not it
    assert (r.status_code, r.json["error"]) == (409, "void_not_allowed"), r.json
    assert "chỉ người đã quét mới hủy được" in r.json["errors"]["message_vi"]
    r = hcm.post(f"/envelopes/{number}/void", void_body(reason=" "))
    assert (r.status_code, r.json["error"]) == (422, "invalid_field"), r.json
    r = hcm.post(f"/envelopes/{number}/void", void_body(reason=""))
    assert (r.status_code, r.json["error"]) == (422, "invalid_request"), r.json
    r = hcm.post(f"/envelopes/{number}/void", void_body("vt_hcm"))  # not of this unit
    assert (r.status_code, r.json["error"]) == (403, "wrong_unit"), r.json
    assert snapshot() == before


def test_a_scan_older_than_the_window_is_not_voided(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    # recorded on the test clock, a week before the device's request
    carry(ctx, network, clock, envelope, until="out_for_delivery")
    ctx.session.commit()
    hcm = scanner("BC-HCM")
    before = snapshot()
    r = hcm.post(f"/envelopes/{envelope.number}/void", void_body())
    assert (r.status_code, r.json["error"]) == (409, "void_window_passed"), r.json
    assert "10 phút" in r.json["errors"]["message_vi"]
    assert r.json["errors"]["minutes"] == 10
    assert snapshot() == before


def test_a_milestone_is_not_voided(ctx: Ctx, network: Network, clock: Clock,
                                   scanner: Callable[[str], Scanner]) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="accepted")
    ctx.session.commit()
    r = scanner("BC-HN").post(f"/envelopes/{envelope.number}/void", void_body("gd_hn"))
    assert (r.status_code, r.json["error"]) == (409, "void_not_allowed"), r.json


def test_another_units_device_gets_the_answer_of_an_unknown_number(
        app: Flask, ctx: Ctx, network: Network, clock: Clock,
        scanner: Callable[[str], Scanner], snapshot: Snapshot) -> None:
    number = at_office(ctx, network, clock)
    hcm, t = scanner("BC-HCM"), Times()
    assert hcm.post("/handoffs", out_body(number, t)).status_code == 201
    agency = scanner("UBND-HN")
    never = format_number(app.config["SERVICE_LETTERS"], 999_999, app.config["COUNTRY_CODE"])
    before = snapshot()
    answers = []
    for n in (number, never):
        r = agency.post(f"/envelopes/{n}/void", void_body("vt_hn"))
        answers.append((r.status_code, r.json["error"], r.json["message"].replace(n, "N"),
                        r.json["errors"]["message_vi"].replace(n, "N")))
    assert answers[0] == answers[1] and answers[0][:2] == (404, "unknown_envelope")
    assert snapshot() == before


def test_the_operation_is_in_the_openapi_document(scanner: Callable[[str], Scanner]) -> None:
    spec = scanner("BC-HCM").get("/openapi.json").json
    op = spec["paths"]["/api/v1/envelopes/{number}/void"]["post"]
    assert {"200", "201", "403", "404", "409", "422"} <= set(op["responses"])
    assert "void_window_passed" in op["responses"]["409"]["description"]
    assert "void_not_allowed" in op["responses"]["409"]["description"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][name]["required"]) == {
        "scan_id", "operator", "reason"}
