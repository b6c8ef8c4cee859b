"""Accepting an envelope whose label was never printed: the scan is recorded (201) and the
answer carries the warning ``label_never_printed``, as the counter's web page warns; a label
printed on a label printer, or downloaded as a PDF, silences it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from kt1.services import printing
from kt1.services.context import Ctx
from tests.api.conftest import Scanner
from tests.api.test_api import Times, accept_body, reg
from tests.conftest import Network


def warning_codes(response: Any) -> list[str]:
    return [w["code"] for w in response.json["warnings"]]


def test_an_unprinted_label_is_warned_about_beside_the_recorded_acceptance(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    bare = reg(ctx, network)
    hn = scanner("BC-HN")
    t = Times()
    first = accept_body(bare.number, t, network)
    r = hn.post("/handoffs", first)
    assert r.status_code == 201, r.json
    assert r.json["handoff"]["kind"] == "accepted"  # recorded: a warning, not a refusal
    (warning,) = r.json["warnings"]
    assert warning["code"] == "label_never_printed"
    assert "chưa từng được in" in warning["message_vi"]
    assert "never printed" in warning["message_en"]
    # the replay of the same scan says the same
    again = hn.post("/handoffs", first)
    assert again.status_code == 200 and warning_codes(again) == ["label_never_printed"]
    # a later stage is not an acceptance: nothing to warn about there
    out = hn.post("/handoffs", {
        "scan_id": str(uuid.uuid4()), "operator": "gd_hn", "number": bare.number,
        "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
        "receiver": "bt_hn", "receipt": {"method": "badge", "secret": network.badges["bt_hn"]}})
    assert out.status_code == 201, out.json
    assert out.json["warnings"] == []


def test_a_label_printed_or_downloaded_as_pdf_gives_no_warning(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    printed, as_pdf = reg(ctx, network), reg(ctx, network)
    name = f"q-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, name, f"memory://{name}")
    printing.print_label(ctx, network["vt_bnv"], printed.number, printer=name)
    printing.record_label_pdf(ctx, network["vt_bnv"], as_pdf.number, b"%PDF-1.4 test")
    hn = scanner("BC-HN")
    t = Times()
    for envelope in (printed, as_pdf):
        r = hn.post("/handoffs", accept_body(envelope.number, t, network))
        assert r.status_code == 201, r.json
        assert r.json["warnings"] == []


def test_the_offline_batch_carries_the_warning_of_each_item(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    bare, labelled = reg(ctx, network), reg(ctx, network)
    printing.record_label_pdf(ctx, network["vt_bnv"], labelled.number, b"%PDF-1.4 test")
    t = Times()
    r = scanner("BC-HN").post("/handoffs/batch", {"items": [
        accept_body(bare.number, t, network), accept_body(labelled.number, t, network)]})
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 201]
    assert [[w["code"] for w in x["result"]["warnings"]] for x in results] == [
        ["label_never_printed"], []]
