"""A second scan of an envelope its receiver already holds at that stage: nothing written,
answered "already received" (slug ``already_received``), never "not held by"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kt1.services.context import Ctx
from tests.api.conftest import Scanner, scan_id
from tests.api.test_api import Times, accept_body, reg
from tests.conftest import PIN, Network

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def test_re_accepting_an_envelope_the_counter_holds_says_already_received(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    assert hn.post("/handoffs", accept_body(number, t, network)).status_code == 201
    before = snapshot()
    r = hn.post("/handoffs", accept_body(number, t, network))
    assert r.status_code == 409, r.json
    assert r.json["error"] == "already_received"
    assert r.json["errors"]["holder"] == "gd_hn"
    assert r.json["errors"]["kind"] == "accepted"
    assert "đã được ghi nhận rồi" in r.json["errors"]["message_vi"]
    assert "không do" not in r.json["errors"]["message_vi"]
    assert snapshot() == before


def test_someone_else_s_envelope_is_still_not_held_by_the_giver(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    """Only the receiver who holds it at that very stage gets "already": the giver who no
    longer holds it after a later stage is refused as before."""
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    assert hn.post("/handoffs", accept_body(number, t, network)).status_code == 201
    r = hn.post("/handoffs", {
        "scan_id": scan_id(), "operator": "gd_hn", "number": number,
        "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
        "receiver": "bt_hn", "receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 201, r.json
    again = hn.post("/handoffs", accept_body(number, t, network))
    assert again.status_code == 409 and again.json["error"] == "not_current_holder"
    # the courier's hand-over scanned a second time: already with bt_hn
    r = hn.post("/handoffs", {
        "scan_id": scan_id(), "operator": "gd_hn", "number": number,
        "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
        "receiver": "bt_hn", "receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 409 and r.json["error"] == "already_received", r.json
    assert r.json["errors"]["holder"] == "bt_hn"


def test_in_a_batch_an_already_received_scan_does_not_block_the_next_ones(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    items = [accept_body(number, t, network), accept_body(number, t, network),
             {"scan_id": scan_id(), "operator": "gd_hn", "number": number,
              "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
              "receiver": "bt_hn", "receipt": {"method": "pin", "secret": PIN}}]
    r = hn.post("/handoffs/batch", {"items": items})
    assert [x["status"] for x in r.json["results"]] == [201, 409, 201], r.json
    assert r.json["results"][1]["error"]["error"] == "already_received"
