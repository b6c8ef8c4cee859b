"""The scanner API end to end, and every refusal it promises (status, slug, nothing written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from kt1.services.context import Ctx
from kt1.services.devices import revoke_device
from kt1.services.handover import prepare_sheet
from tests.api.conftest import Scanner, iso, scan_id
from tests.conftest import PIN, Network
from tests.journey import register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


class Times:
    """Device times in the recent past that only move forward."""

    def __init__(self) -> None:
        self.t = datetime.now(UTC) - timedelta(hours=3)

    def next(self) -> str:
        self.t += timedelta(minutes=5)
        return iso(self.t)


def reg(ctx: Ctx, network: Network) -> Any:
    """Register an envelope (BNV -> UBND-HCM) four hours ago, before any scan of the test."""
    return register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=4))


def accept_body(number: str, t: Times, network: Network, **kw: Any) -> dict[str, Any]:
    return {"scan_id": scan_id(), "operator": "gd_hn", "number": number, "kind": "accepted",
            "event_at": t.next(), "giver": "vt_bnv", "receiver": "gd_hn",
            "receipt": {"method": "badge", "secret": network.badges["gd_hn"]},
            "giver_receipt": {"method": "pin", "secret": PIN}, **kw}


def test_a_device_token_carries_an_envelope_through_a_full_day_of_scanning(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    envelope = reg(ctx, network)
    number = envelope.number
    hn, hcm, agency = scanner("BC-HN"), scanner("BC-HCM"), scanner("UBND-HCM")
    t = Times()

    # The post office sees nothing of an item before it is handed over (least privilege)...
    assert hn.get(f"/envelopes/{number}").status_code == 404
    r = hn.post("/handoffs", accept_body(number, t, network))
    assert r.status_code == 201, r.json
    assert r.json["handoff"]["kind"] == "accepted"
    assert r.json["handoff"]["acknowledged_by"] == "gd_hn"
    # ... and everything of it once it holds it.
    looked = hn.get(f"/envelopes/{number}")
    assert looked.status_code == 200
    assert looked.json["status"] == "accepted" and looked.json["letter"] == "B"

    bag = hn.post("/bags", {"scan_id": scan_id(), "operator": "gd_hn",
                            "destination": "BC-HCM"})
    assert bag.status_code == 201, bag.json
    bag_no = bag.json["bag"]["number"]
    r = hn.post(f"/bags/{bag_no}/envelopes", {"scan_id": scan_id(), "operator": "gd_hn",
                                               "number": number, "event_at": t.next()})
    assert r.status_code == 201, r.json
    r = hn.post(f"/bags/{bag_no}/seal", {"scan_id": scan_id(), "operator": "gd_hn",
                                         "seal_number": "NP-778", "event_at": t.next()})
    assert r.status_code == 201, r.json
    r = hn.post(f"/bags/{bag_no}/dispatch", {
        "scan_id": scan_id(), "operator": "gd_hn", "courier": "bt_hn",
        "receipt": {"method": "pin", "secret": PIN}, "vehicle": "29A-123",
        "is_dedicated_vehicle": True, "event_at": t.next()})
    assert r.status_code == 201, r.json
    assert r.json["bag"]["holder"] == {"unit": "BC-HN", "user": "bt_hn"}

    r = hcm.post(f"/bags/{bag_no}/receive", {
        "scan_id": scan_id(), "operator": "gd_hcm", "courier": "bt_hn",
        "seal_number": "NP-778", "receipt": {"method": "badge",
                                             "secret": network.badges["gd_hcm"]},
        "courier_receipt": {"method": "pin", "secret": PIN}, "event_at": t.next()})
    assert r.status_code == 201, r.json
    r = hcm.post(f"/bags/{bag_no}/open", {"scan_id": scan_id(), "operator": "gd_hcm",
                                          "numbers": [number], "event_at": t.next()})
    assert r.status_code == 201, r.json
    assert r.json["missing"] == [] and r.json["extra"] == []

    r = hcm.post("/handoffs", {
        "scan_id": scan_id(), "operator": "gd_hcm", "number": number,
        "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hcm",
        "receiver": "bt_hcm", "receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 201, r.json
    r = hcm.post("/handoffs", {
        "scan_id": scan_id(), "operator": "bt_hcm", "number": number, "kind": "delivered",
        "event_at": t.next(), "giver": "bt_hcm", "receiver": "vt_hcm",
        "receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 201, r.json
    r = agency.post("/handoffs", {"scan_id": scan_id(), "operator": "vt_hcm",
                                  "number": number, "kind": "registered_incoming",
                                  "event_at": t.next()})
    assert r.status_code == 201, r.json
    final = agency.get(f"/envelopes/{number}").json
    assert final["status"] == "arrived"
    assert final["chain_length"] == 10
    assert final["holder"] == {"unit": "UBND-HCM", "user": "vt_hcm"}


def test_replaying_a_scan_returns_200_with_the_same_body_and_writes_nothing(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    body = accept_body(number, Times(), network)
    first = hn.post("/handoffs", body)
    assert first.status_code == 201
    before = snapshot()
    again = hn.post("/handoffs", body)
    assert again.status_code == 200
    assert again.json == first.json
    assert snapshot() == before


def test_a_replayed_scan_id_with_different_content_is_refused(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    body = accept_body(number, Times(), network)
    assert hn.post("/handoffs", body).status_code == 201
    before = snapshot()
    changed = hn.post("/handoffs", {**body, "note": "khác"})
    assert changed.status_code == 409
    assert changed.json["error"] == "scan_id_conflict"
    assert set(changed.json) == {"code", "status", "message", "errors", "error"}
    assert snapshot() == before


def _refusal(response: Any, status: int, slug: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["error"] == slug, body
    assert body["code"] == status
    assert {"code", "status", "message", "errors", "error"} <= set(body)


@pytest.mark.parametrize(("header", "slug"), [
    (None, "token_missing"),
    ("Bearer ", "token_missing"),
    ("Bearer kt1d_not-a-real-token", "token_invalid"),
    ("Basic dXNlcjpwYXNz", "token_missing"),
])
def test_requests_without_a_valid_token_are_refused(
        client: FlaskClient, ctx: Ctx, network: Network, snapshot: Snapshot,
        header: str | None, slug: str) -> None:
    number = reg(ctx, network).number
    before = snapshot()
    headers = {"Authorization": header} if header else {}
    _refusal(client.get(f"/api/v1/envelopes/{number}", headers=headers), 401, slug)
    _refusal(client.post("/api/v1/handoffs", json=accept_body(number, Times(), network),
                         headers=headers), 401, slug)
    assert snapshot() == before


def test_a_revoked_token_is_refused(ctx: Ctx, network: Network,
                                    scanner: Callable[[str], Scanner],
                                    snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    from sqlalchemy import select

    from kt1.models import Device
    from kt1.services.devices import token_digest

    device = ctx.session.execute(
        select(Device).where(Device.token_hash == token_digest(hn.token))).scalar_one()
    revoke_device(ctx, None, device.name)
    before = snapshot()
    _refusal(hn.post("/handoffs", accept_body(number, Times(), network)), 401, "token_revoked")
    assert snapshot() == before


def test_a_token_of_another_unit_cannot_move_or_see_an_envelope(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number  # BNV -> UBND-HCM
    other_agency, other_office = scanner("UBND-HN"), scanner("BC-HCM")
    before = snapshot()
    _refusal(other_agency.get(f"/envelopes/{number}"), 404, "unknown_envelope")
    # an operator who is not in the device's unit
    _refusal(other_office.post("/handoffs", accept_body(number, Times(), network)),
             403, "wrong_unit")
    assert snapshot() == before


def test_malformed_json_is_refused(ctx: Ctx, network: Network,
                                   scanner: Callable[[str], Scanner],
                                   snapshot: Snapshot) -> None:
    hn = scanner("BC-HN")
    before = snapshot()
    r = hn.client.post("/api/v1/handoffs", data=b'{"scan_id": "x", ',
                       content_type="application/json", headers=hn.headers())
    _refusal(r, 400, "malformed_json")
    assert snapshot() == before


def test_a_wrong_content_type_is_refused(ctx: Ctx, network: Network,
                                         scanner: Callable[[str], Scanner],
                                         snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    before = snapshot()
    r = hn.client.post("/api/v1/handoffs",
                       data=json.dumps(accept_body(number, Times(), network)),
                       content_type="text/plain", headers=hn.headers())
    _refusal(r, 415, "unsupported_media_type")
    assert snapshot() == before


def test_a_body_over_the_limit_is_refused(ctx: Ctx, network: Network,
                                          scanner: Callable[[str], Scanner],
                                          snapshot: Snapshot) -> None:
    hn = scanner("BC-HN")
    before = snapshot()
    r = hn.client.post("/api/v1/handoffs/batch",
                       data=b'{"items": [' + b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}]}',
                       content_type="application/json", headers=hn.headers())
    _refusal(r, 413, "body_too_large")
    assert snapshot() == before


def test_a_batch_over_500_is_refused_whole(ctx: Ctx, network: Network,
                                           scanner: Callable[[str], Scanner],
                                           snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    before = snapshot()
    items = [accept_body(number, t, network) for _ in range(501)]
    _refusal(hn.post("/handoffs/batch", {"items": items}), 422, "batch_too_large")
    assert snapshot() == before


@pytest.mark.parametrize(("code", "status", "slug"), [
    ("KT000000011VN", 422, "check_digit_invalid"),
    ("KT12345VN", 422, "number_length_invalid"),
    ("RR000000080VN", 422, "number_letters_invalid"),
    ("KT999999995VN", 404, "unknown_envelope"),
])
def test_a_bad_scanned_code_is_refused_precisely(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], snapshot: Snapshot,
        code: str, status: int, slug: str) -> None:
    hn = scanner("BC-HN")
    before = snapshot()
    _refusal(hn.get(f"/envelopes/{code}"), status, slug)
    _refusal(hn.post("/handoffs", accept_body(code, Times(), network)), status, slug)
    assert snapshot() == before


def test_a_scan_out_of_order_is_refused(ctx: Ctx, network: Network,
                                        scanner: Callable[[str], Scanner],
                                        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    # listed for BC-HN on a handover sheet, so the office may see it (else: unknown_envelope)
    prepare_sheet(ctx, network["vt_bnv"], [number], "BC-HN")
    hn = scanner("BC-HN")
    before = snapshot()
    # out for delivery before the counter accepted it
    r = hn.post("/handoffs", {"scan_id": scan_id(), "operator": "gd_hn", "number": number,
                              "kind": "out_for_delivery", "event_at": Times().next(),
                              "giver": "vt_bnv", "receiver": "bt_hn",
                              "receipt": {"method": "pin", "secret": PIN}})
    _refusal(r, 409, "event_out_of_order")
    assert snapshot() == before


def test_a_missing_field_is_refused_with_the_field_named(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    before = snapshot()
    body = accept_body(number, Times(), network)
    del body["event_at"]
    r = hn.post("/handoffs", body)
    _refusal(r, 422, "invalid_request")
    assert "event_at" in json.dumps(r.json["errors"])
    assert snapshot() == before


def test_a_batch_applies_each_scan_and_refuses_only_what_depends_on_a_refused_one(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    first, second, third = (reg(ctx, network).number for _ in range(3))
    hn = scanner("BC-HN")
    t = Times()
    items = [
        accept_body(first, t, network),
        # not the holder, and the office was never shown the envelope: as if it did not exist
        accept_body(second, t, network, giver="vt_hn"),
        {"scan_id": scan_id(), "operator": "gd_hn", "number": second,
         "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
         "receiver": "bt_hn", "receipt": {"method": "pin", "secret": PIN}},
        {"scan_id": "bad", "kind": "accepted"},  # malformed item, no number
        accept_body(third, t, network),
    ]
    r = hn.post("/handoffs/batch", {"items": items})
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 404, 409, 422, 201]
    assert results[1]["error"]["error"] == "unknown_envelope"
    assert results[2]["error"]["error"] == "depends_on_refused"
    assert results[3]["error"]["error"] == "invalid_request"
    assert (r.json["accepted"], r.json["replayed"], r.json["refused"]) == (2, 0, 3)
    # the same batch again: the accepted ones replay, nothing is counted twice
    again = hn.post("/handoffs/batch", {"items": items}).json
    assert [x["status"] for x in again["results"]] == [200, 404, 409, 422, 200]
    assert hn.get(f"/envelopes/{first}").json["chain_length"] == 2


def test_the_openapi_document_and_its_docs_page_are_served_locally(
        client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/handoffs" in spec.json["paths"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
