"""Corrections at the counter in Debian's chromium (issue 13, item 2), at 1366×900 and on a
412×915 phone: an envelope for Hà Nội typed into a bag for Hồ Chí Minh is not let in with a
green tick but warned about ("không đúng tuyến"); it goes in only with a reason, which the
chain keeps; and it can be taken out again, with a reason, while the bag is open.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kt1.models import Envelope, Handoff
from kt1.models.enums import EnvelopeStatus, EventKind
from kt1.services import bagging
from kt1.services.context import Ctx
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Network, new_scan
from tests.web.test_counter import accepted


def links(ctx: Ctx, envelope_id: int) -> list[tuple[EventKind, str]]:
    ctx.session.rollback()
    found = [(h.kind, h.note) for h in ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope_id).order_by(Handoff.seq)
    ).scalars()]
    ctx.session.rollback()  # touch nothing after: an open SQLite transaction locks writers
    return found


def test_a_wrong_bag_is_warned_about_and_an_envelope_comes_out_again(
        people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    for_hanoi = accepted(ctx, network, recipient="UBND-HN")
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    number, envelope_id = for_hanoi.number, for_hanoi.id
    ctx.session.commit()  # and read no attribute after: an open SQLite read locks writers
    shot = Shots("bag-corrections")

    counter = people("gd_hn")
    for width, height in ((1366, 900), (412, 915)):
        counter.page.set_viewport_size({"width": width, "height": height})
        counter.go(f"/counter/bags/{bag}")
        assert "không đúng tuyến" in counter.text()  # warned before anything is typed
        shot(counter, f"bag-{width}")
    counter.page.set_viewport_size({"width": 1366, "height": 900})

    # typed in without a reason: a warning naming both places, nothing written
    counter.page.fill("textarea[name='a-numbers']", number)
    with counter.page.expect_navigation():
        counter.page.click("button:has-text('Cho vào túi')")
    text = counter.text()
    assert "UBND thành phố Hà Nội" in text and "Bưu cục KT1 TP Hồ Chí Minh" in text
    assert counter.page.locator("input[name='a-route_override']").count() == 1
    assert [k for k, _ in links(ctx, envelope_id)][-1] is EventKind.ACCEPTED
    shot(counter, "route-warning-1366")

    # with a reason it goes in, and the reason is in the chain
    counter.page.fill("input[name='a-route_override']", "Chuyển tiếp qua HCM")
    counter.page.fill("textarea[name='a-numbers']", number)
    with counter.page.expect_navigation():
        counter.page.click("button:has-text('Cho vào túi')")
    assert "đã cho vào túi" in counter.text()
    assert links(ctx, envelope_id)[-1] == (EventKind.BAGGED,
                                         "route_override: Chuyển tiếp qua HCM")

    # and out again, with a reason, while the bag is open
    counter.page.set_viewport_size({"width": 412, "height": 915})
    counter.go(f"/counter/bags/{bag}")
    row = counter.page.locator("form.inline-remove", has=counter.page.locator(
        f"input[name='x-number'][value='{number}']"))
    row.locator("input[name='x-reason']").fill("Nhầm túi")
    with counter.page.expect_navigation():
        row.locator("button:has-text('Lấy ra')").click()
    assert f"Đã lấy bưu gửi {number} ra khỏi túi {bag}." in counter.text("body")
    shot(counter, "removed-412")
    assert links(ctx, envelope_id)[-1] == (EventKind.UNBAGGED, "Nhầm túi")
    env = ctx.session.get(Envelope, envelope_id)
    assert env is not None and env.status is EnvelopeStatus.ACCEPTED and env.bag_id is None
    ctx.session.rollback()
    assert not counter.outside() and not counter.csp_violations()
