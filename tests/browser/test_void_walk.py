"""Voiding a mistaken scan at the counter in Debian's chromium (issue 13, corrections), at
1366×900 and on a 412×915 phone: the counter clerk gives an envelope to the wrong courier,
"Hủy lần quét vừa rồi" beside the result takes it back with a reason (a ``voided`` link,
nothing deleted, the chain verifies); found again by its number from the header's search
box, the void is offered there too, and once the time allowed has passed it is refused in
plain Vietnamese. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.models import Envelope, Handoff
from kt1.models.enums import EnvelopeStatus, EventKind
from kt1.services.context import Ctx
from kt1.services.verify import verify
from tests.browser.test_day import Person, Shots, people  # noqa: F401  (the fixture)
from tests.conftest import PIN, Network
from tests.web.test_counter import at_hcm_office

SIZES = ((1366, 900), (412, 915))


def links(ctx: Ctx, envelope_id: int) -> list[tuple[EventKind, str]]:
    ctx.session.rollback()
    found = [(h.kind, h.note) for h in ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope_id).order_by(Handoff.seq)
    ).scalars()]
    ctx.session.rollback()  # touch nothing after: an open SQLite transaction locks writers
    return found


def state(ctx: Ctx, envelope_id: int) -> tuple[EnvelopeStatus, str | None]:
    ctx.session.rollback()
    env = ctx.session.get(Envelope, envelope_id)
    assert env is not None
    found = env.status, env.holder_user.username if env.holder_user else None
    ctx.session.rollback()
    return found


def give_to_courier(counter: Person, number: str) -> None:
    counter.go("/counter/delivery")
    counter.page.check(f"#pick-{number}")
    counter.page.select_option("select[name=courier]", "bt_hcm")
    counter.page.fill("input[name=pin]", PIN)
    counter.submit("main form.card")
    assert "đã giao bưu tá" in counter.text(".results")


def test_a_mistaken_delivery_scan_is_voided_at_the_counter(
        app: Flask, people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    envelope = at_hcm_office(ctx, network)
    number, envelope_id = envelope.number, envelope.id
    ctx.session.commit()  # and read no attribute after: an open SQLite read locks writers
    shot = Shots("void")

    # 1. Given to the courier: beside the result, "Hủy lần quét vừa rồi" with a reason.
    counter = people("gd_hcm")
    give_to_courier(counter, number)
    control = counter.page.locator(f"form.void-form[data-number='{number}']")
    assert control.count() == 1 and "được hủy đến" in control.inner_text()
    for width, height in SIZES:
        counter.page.set_viewport_size({"width": width, "height": height})
        assert control.locator("button").is_visible()
        shot(counter, f"delivery-result-{width}")

    # 2. Without a reason: asked for one on the void's own page, nothing written.
    with counter.page.expect_navigation():
        control.locator("button:has-text('Hủy lần quét vừa rồi')").click()
    assert "Hãy ghi lý do hủy lần quét." in counter.text("#void")
    assert links(ctx, envelope_id)[-1][0] is EventKind.OUT_FOR_DELIVERY
    shot(counter, "reason-needed-412")

    # 3. With a reason it is voided: back at the office with the clerk, nothing deleted.
    counter.page.fill("#void input[name='v-reason']", "Giao nhầm bưu tá")
    counter.submit("#void form")
    assert "/counter/delivery" in counter.page.url
    assert f"Đã hủy lần quét cuối của bưu gửi {number}" in counter.flash()
    assert number in counter.text("table.pick")  # waiting at the office again
    shot(counter, "voided-412")
    kinds = [k for k, _ in links(ctx, envelope_id)]
    assert kinds[-2:] == [EventKind.OUT_FOR_DELIVERY, EventKind.VOIDED]
    assert links(ctx, envelope_id)[-1][1].endswith("Giao nhầm bưu tá")
    assert state(ctx, envelope_id) == (EnvelopeStatus.AT_OFFICE, "gd_hcm")

    # 4. Out again; found by its number in the header, the summary offers the void too.
    counter.page.set_viewport_size({"width": 1366, "height": 900})
    give_to_courier(counter, number)
    counter.go("/counter/delivery")  # opened again later: "Vừa giao, còn hủy được"
    assert number in counter.text("#recent-voidable")
    assert counter.page.locator("#recent-voidable form.void-form").count() == 1
    shot(counter, "recent-1366")
    counter.page.fill("#lookup-q", number)
    with counter.page.expect_navigation():
        counter.page.press("#lookup-q", "Enter")
    assert number in counter.text("#lookup-envelope")
    assert counter.page.locator("#lookup-envelope form.void-form").count() == 1
    shot(counter, "lookup-1366")

    # 5. Once the time allowed has passed, a plain refusal; nothing is written.
    app.config["VOID_WINDOW_MINUTES"] = 0
    try:
        counter.page.set_viewport_size({"width": 412, "height": 915})
        counter.page.fill("#lookup-envelope input[name='v-reason']", "Nhầm lần nữa")
        counter.submit("#lookup-envelope form.void-form")
        assert "không hủy được nữa" in counter.text("#void")
        assert counter.page.locator("#void form").count() == 0  # nothing more to offer
        shot(counter, "too-late-412")
    finally:
        app.config["VOID_WINDOW_MINUTES"] = 10
    assert links(ctx, envelope_id)[-1][0] is EventKind.OUT_FOR_DELIVERY
    assert state(ctx, envelope_id) == (EnvelopeStatus.OUT_FOR_DELIVERY, "bt_hcm")
    with counter.page.expect_navigation():
        counter.page.click("#void a.button:has-text('Quay lại')")
    assert f"/lookup?q={number}" in counter.page.url

    # 6. The courier holds it; he did not record the scan, so he is offered no void.
    courier = people("bt_hcm")
    courier.go(f"/lookup?q={number}")
    assert courier.page.locator("form.void-form").count() == 0

    ctx.session.rollback()
    (report,) = verify(ctx, [number])
    assert not report.findings, report.findings
    ctx.session.rollback()
    for person in (counter, courier):
        assert not person.outside() and not person.csp_violations()
