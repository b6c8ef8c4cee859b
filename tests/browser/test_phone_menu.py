"""The header on a 412×915 phone in Debian's chromium: the menu folds behind one button, the
search box and the incident count stay in view, and the menu opens and leads where it says;
at 1366×900 the menu is a row of links and the button is not there. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

from typing import Any

from kt1.services.context import Ctx
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Network


def test_the_menu_folds_on_a_phone_and_opens_with_one_tap(
        people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    ctx.session.commit()  # and touch nothing after: an open SQLite transaction locks
    shot = Shots("phone-menu")
    officer = people("bm_bnv")
    page = officer.page
    page.set_viewport_size({"width": 412, "height": 915})
    officer.go("/officer/")
    menu_link = page.locator("#mainnav a", has_text="Điểm kiểm tra")
    assert not menu_link.is_visible()
    assert page.locator(".nav-button").is_visible()
    # what matters first is in the first screen: the search box and the page's own title
    search = page.locator("#lookup-q").bounding_box()
    title = page.locator("main h1").first.bounding_box()
    assert search and title and search["y"] + search["height"] <= 915 and title["y"] < 915 / 2
    assert search["width"] > 412 / 2  # the search box spans the phone, not a sliver
    shot(officer, "folded-412")

    page.locator(".nav-button").click()
    assert menu_link.is_visible()
    shot(officer, "open-412")
    with page.expect_navigation():
        menu_link.click()
    assert page.url.endswith("/officer/checkpoints")
    assert not page.locator("#mainnav a", has_text="Bưu gửi").is_visible()  # folded again

    page.set_viewport_size({"width": 1366, "height": 900})
    assert page.locator("#mainnav a", has_text="Bưu gửi").is_visible()
    assert not page.locator(".nav-button").is_visible()
    shot(officer, "desk-1366")
