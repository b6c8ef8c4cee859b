"""The scanner API validates a `paper` receipt as the pages do (issue 11; docs/access.md):
a handoff inside a unit signed on paper names an internal handover sheet of that unit, for
the receiver, marked signed, with the item's line ticked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kt1.services import sheets
from kt1.services.context import Ctx
from kt1.services.paper import note_print
from tests.api.conftest import Scanner, iso, scan_id
from tests.conftest import Clock, Network
from tests.journey import carry, register


def test_a_paper_receipt_is_refused_unless_it_names_a_signed_ticked_sheet(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner],
        snapshot: Callable[[], dict[str, Any]]) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="arrived")
    device = scanner("UBND-HCM")
    body = {"operator": "vt_hcm", "number": envelope.number, "kind": "passed_to_addressee",
            "giver": "vt_hcm", "receiver": "cv_hcm", "authority": "addressee"}

    def send(reference: str) -> Any:
        return device.post("/handoffs", {
            **body, "scan_id": scan_id(), "event_at": iso(clock.tick()),
            "receipt": {"username": "cv_hcm", "method": "paper", "reference": reference}})

    sheet = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm", [envelope.number])
    note_print(ctx, network["vt_hcm"], sheet)
    before = snapshot()
    for reference, why in (("xyz", "unknown"), (sheet.number, "unsigned")):
        r = send(reference)
        assert r.status_code == 422 and r.json["error"] == "paper_receipt_unbound", r.json
        assert r.json["errors"]["why"] == why and "xyz" not in str(r.json)
        assert r.json["errors"]["message_vi"].startswith("Ký nhận trên giấy")
    assert snapshot() == before
    sheets.mark_signed(ctx, network["cv_hcm"], sheet.number, [envelope.number])
    r = send(sheet.number)
    assert r.status_code == 201, r.json
