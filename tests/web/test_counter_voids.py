"""The counter voids its own last scan (hủy lần quét nhầm, docs/rules.md rule 5): beside a
result just recorded on the delivery page and on the envelope's summary found by number,
within VOID_WINDOW_MINUTES, with a reason; a clear refusal otherwise, and another office's
envelope answers as an unknown number."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kt1.models import Handoff
from kt1.models.enums import EnvelopeStatus, EventKind, UnitKind
from kt1.services.context import Ctx
from kt1.services.directory import add_unit, add_user
from kt1.services.identifiers import format_number
from kt1.services.verify import verify
from tests.conftest import PASSWORD, PIN, Network
from tests.web.test_counter import at_hcm_office, count, last_link, page, reload


def give_to_courier(counter: Any, number: str) -> Any:
    assert number in page(counter.get("/counter/delivery"))
    out = counter.post("/counter/delivery", {"picked": [number], "courier": "bt_hcm",
                                             "pin": PIN})
    assert out.status_code == 200, page(out)
    return out


def clean(ctx: Ctx, number: str) -> None:
    ctx.session.rollback()
    reports = list(verify(ctx, [number]))
    assert len(reports) == 1 and reports[0].findings == [], reports[0].findings


def test_the_just_recorded_delivery_is_voided_beside_its_result(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = at_hcm_office(ctx, network)
    counter = signed_in("gd_hcm")
    out = page(give_to_courier(counter, envelope.number))
    action = f'action="/counter/envelopes/{envelope.number}/void"'
    assert action in out and "Hủy lần quét vừa rồi" in out
    assert 'id="recent-voidable"' not in out  # beside the result, not twice
    # the page opened again later still lists it, while it may be voided
    listed = page(counter.get("/counter/delivery"))
    assert 'id="recent-voidable"' in listed and action in listed
    # a reason is needed; nothing is written without one
    before = count(ctx, Handoff)
    empty = counter.post(f"/counter/envelopes/{envelope.number}/void",
                         {"v-reason": " ", "next": "/counter/delivery"})
    assert empty.status_code == 422 and "Hãy ghi lý do hủy lần quét." in page(empty)
    assert count(ctx, Handoff) == before
    done = counter.post(f"/counter/envelopes/{envelope.number}/void",
                        {"v-reason": "Giao nhầm bưu tá", "next": "/counter/delivery"})
    assert done.status_code == 303 and done.headers["Location"] == "/counter/delivery"
    after = page(counter.get("/counter/delivery"))
    assert "Đã hủy lần quét cuối của bưu gửi" in after
    assert 'id="recent-voidable"' not in after  # the last link is the void now
    env = reload(ctx, envelope)
    assert env.status is EnvelopeStatus.AT_OFFICE and env.holder_user.username == "gd_hcm"
    link = last_link(ctx, envelope)
    assert link.kind is EventKind.VOIDED and link.note.endswith("Giao nhầm bưu tá")
    assert count(ctx, Handoff) == before + 1
    clean(ctx, envelope.number)
    # voided once: the last link is the void itself, a second void is refused plainly
    again = counter.post(f"/counter/envelopes/{envelope.number}/void",
                         {"v-reason": "Lần nữa"})
    assert again.status_code == 409
    assert "Không thể hủy lần quét cuối của bưu gửi" in page(again)
    assert count(ctx, Handoff) == before + 1
    # the courier's round no longer lists it
    assert envelope.number not in page(signed_in("bt_hcm").get("/counter/round"))


def test_the_envelope_found_by_number_offers_the_void_to_its_operator_only(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = at_hcm_office(ctx, network)
    counter = signed_in("gd_hcm")
    assert "Hủy lần quét vừa rồi" not in page(counter.get(f"/lookup?q={envelope.number}"))
    give_to_courier(counter, envelope.number)
    found = page(counter.get(f"/lookup?q={envelope.number}"))
    assert f'action="/counter/envelopes/{envelope.number}/void"' in found
    courier = page(signed_in("bt_hcm").get(f"/lookup?q={envelope.number}"))
    assert "Hủy lần quét vừa rồi" not in courier  # the courier did not record it
    done = counter.post(f"/counter/envelopes/{envelope.number}/void",
                        {"v-reason": "Nhầm", "next": f"/lookup?q={envelope.number}"})
    assert done.status_code == 303
    assert done.headers["Location"] == f"/lookup?q={envelope.number}"
    assert "Hủy lần quét vừa rồi" not in page(counter.get(f"/lookup?q={envelope.number}"))


def test_after_the_window_the_void_is_refused_in_vietnamese(
        app: Flask, signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = at_hcm_office(ctx, network)
    counter = signed_in("gd_hcm")
    give_to_courier(counter, envelope.number)
    app.config["VOID_WINDOW_MINUTES"] = 0  # every scan is already too old
    assert 'id="recent-voidable"' not in page(counter.get("/counter/delivery"))
    before = count(ctx, Handoff)
    late = counter.post(f"/counter/envelopes/{envelope.number}/void",
                        {"v-reason": "Nhầm", "next": "//elsewhere.example/x"})
    assert late.status_code == 409
    text = page(late)
    assert "đã quá 0 phút, không hủy được nữa" in text
    assert 'href="/counter/delivery"' in text  # back to this site's page, not elsewhere
    assert count(ctx, Handoff) == before
    assert reload(ctx, envelope).status is EnvelopeStatus.OUT_FOR_DELIVERY


def test_another_offices_envelope_answers_as_an_unknown_number(
        app: Flask, signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = at_hcm_office(ctx, network)
    give_to_courier(signed_in("gd_hcm"), envelope.number)
    never = format_number(app.config["SERVICE_LETTERS"], 999_999, app.config["COUNTRY_CODE"])
    add_unit(ctx, None, "BC-DN", "Bưu cục KT1 Đà Nẵng", UnitKind.POST_OFFICE, "48", "Đà Nẵng")
    add_user(ctx, None, "gd_dn", "GD_DN", "counter_clerk", "BC-DN", PASSWORD, pin=PIN)
    other = signed_in("gd_dn")
    other.get("/counter/")
    before = count(ctx, Handoff)
    answers = []
    for number in (envelope.number, never):
        r = other.post(f"/counter/envelopes/{number}/void", {"v-reason": "Nhầm"})
        answers.append((r.status_code, f"Không tìm thấy bưu gửi số {number}" in page(r),
                        "Hủy lần quét" in page(r)))
    assert answers[0] == answers[1] == (404, True, False)
    assert count(ctx, Handoff) == before
