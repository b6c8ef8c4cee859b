"""Copies through the scanner API (issue 12 item 1): ``POST /envelopes/{number}/copies``.
Copies with "Bản số n/N", scan-id replays, machine-readable refusals that write nothing, and
another unit's number answered exactly as an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from tests.api.conftest import Scanner, scan_id
from tests.conftest import Clock, Network
from tests.journey import register
from tests.years import registered_year

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def body(**kw: Any) -> dict[str, Any]:
    return {"scan_id": scan_id(), "operator": "vt_bnv", "approved_by": "head_bnv", **kw}


def test_copies_are_registered_and_a_replay_answers_the_same(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner]) -> None:
    original = register(ctx, network)
    ctx.session.commit()
    bnv = scanner("BNV")
    first = body(count=2, method="extract", recipient_name="Văn phòng")
    r = bnv.post(f"/envelopes/{original.number}/copies", first)
    assert r.status_code == 201, r.json
    made = r.json["copies"]
    assert [c["copy_label"] for c in made] == ["Bản số 1/2", "Bản số 2/2"]
    year = registered_year(ctx.session, made[0]["envelope"]["number"])
    assert [c["register_no"] for c in made] == [f"1/{year}", f"2/{year}"]
    assert {c["method"] for c in made} == {"extract"}
    assert made[0]["envelope"]["recipient"]["unit"] == "UBND-HCM"
    assert made[0]["envelope"]["holder"] == {"unit": "BNV", "user": "vt_bnv"}
    again = bnv.post(f"/envelopes/{original.number}/copies", first)
    assert again.status_code == 201
    assert [c["envelope"]["number"] for c in again.json["copies"]] == [
        c["envelope"]["number"] for c in made]
    third = bnv.post(f"/envelopes/{original.number}/copies", body(copy_no=3))
    assert third.json["copies"][0]["copy_label"] == "Bản số 3/3"


def test_refusals_are_machine_readable_and_write_nothing(
        ctx: Ctx, network: Network, clock: Clock, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    original = register(ctx, network)
    ctx.session.commit()
    bnv, hcm = scanner("BNV"), scanner("UBND-HCM")
    before = snapshot()
    cases = [
        (bnv, body(approved_by="vt_bnv"), 422, "copy_approver_not_entitled"),
        (bnv, body(copy_no=2), 409, "copy_number_out_of_sequence"),
        (bnv, body(count=0), 422, None),
        (bnv, body(method="fax"), 422, None),
        (bnv, body(recipient_unit="NOPE"), 404, "unknown_unit"),
        (bnv, body(operator="gd_hn"), 403, "wrong_unit"),
    ]
    for device, payload, status, slug in cases:
        r = device.post(f"/envelopes/{original.number}/copies", payload)
        assert r.status_code == status, (payload, r.json)
        if slug:
            assert r.json["error"] == slug
    assert snapshot() == before
    # another unit's clerk: exactly the answer for a number never issued
    never = format_number("KT", 99_999_990, "VN")
    other = hcm.post(f"/envelopes/{original.number}/copies",
                     body(operator="vt_hcm", approved_by="head_hcm"))
    unknown = hcm.post(f"/envelopes/{never}/copies",
                       body(operator="vt_hcm", approved_by="head_hcm"))
    assert other.status_code == unknown.status_code == 404
    assert other.json["error"] == unknown.json["error"] == "unknown_envelope"
    assert other.json["message"].replace(original.number, never) == unknown.json["message"]
    assert snapshot() == before
