"""The header's search box in Debian's chromium (issue 13, item 3), at 1366×900 and on a
412×915 phone: the counter clerk types a bag number and lands on the bag; the courier finds
the bag he carries; a mistyped number is a message on a page; an empty search stays put.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kt1.services import bagging, custody
from kt1.services.context import Ctx
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Network, new_scan, pin
from tests.journey import register


def now() -> datetime:
    return datetime.now(UTC)


def search(person: Any, number: str) -> None:
    person.page.fill("#lookup-q", number)
    with person.page.expect_navigation():
        person.page.press("#lookup-q", "Enter")


def test_the_header_search_at_the_counter_and_on_the_courier_phone(
        people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    envelope = register(ctx, network)
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(network["vt_bnv"]))
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    bagging.add_to_bag(ctx, network["gd_hn"], bag, envelope.number, new_scan(), now())
    bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-9", new_scan(), now())
    bagging.dispatch_bag(ctx, network["gd_hn"], bag, network["bt_hn"], pin(network["bt_hn"]),
                         new_scan(), now(), vehicle="29A-1", is_dedicated_vehicle=True)
    number = envelope.number
    ctx.session.commit()  # and touch nothing after: an open SQLite transaction locks
    shot = Shots("lookup-walk")

    counter = people("gd_hn")
    counter.page.set_viewport_size({"width": 1366, "height": 900})
    counter.go("/counter/")
    search(counter, bag.lower())
    assert counter.page.url.endswith(f"/counter/bags/{bag}")
    shot(counter, "counter-bag-1366")
    search(counter, number)
    assert bag in counter.text("#lookup-envelope")
    shot(counter, "counter-envelope-1366")
    mistyped = f"{number[:10]}{(int(number[10]) + 1) % 10}VN"
    search(counter, mistyped)
    assert "Sai số kiểm tra" in counter.text("#lookup-error")
    shot(counter, "counter-mistyped-1366")
    counter.go("/counter/sheets")
    before = counter.page.url
    counter.page.press("#lookup-q", "Enter")  # empty: the browser stays on the page
    assert counter.page.url == before

    courier = people("bt_hn")
    courier.page.set_viewport_size({"width": 412, "height": 915})
    courier.go("/counter/round")
    search(courier, bag)
    assert "NP-9" not in courier.text() and bag in courier.text("#lookup-bag")
    box = courier.page.locator("#lookup-q").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 412
    shot(courier, "courier-bag-412")
    other = people("bt_hcm")
    other.page.set_viewport_size({"width": 412, "height": 915})
    other.go("/")
    search(other, bag)
    assert f"Không tìm thấy số {bag}." in other.text("#lookup-error")
    shot(other, "other-courier-412")
    assert not counter.outside() and not courier.outside() and not other.outside()
