"""The three views that looked worst on a 412×915 phone, looked at again: the security
officer's dashboard, the /scan/ page while accepting at the counter, and the administrator's
printer form. On the phone nothing runs off the right edge of the page, every field of the
printer form fits the screen, and the labels of the scan page's signature fields read as
short lines. Screenshots in test-artifacts/phone-views-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from kt1.models import Incident, Scan
from kt1.services.context import Ctx
from tests.browser.conftest import Tab, set_up_device
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.browser.test_scan_mobile import in_viewport, phone  # noqa: F401  (the fixture)
from tests.browser.test_scan_page import device, envelopes, result, scan
from tests.conftest import PIN, Clock, Network
from tests.journey import register
from tests.services.test_verify import _broken_seal

PHONE = {"width": 412, "height": 915}


def overflow(page: Any) -> list[str]:
    """What sticks out past the right edge of the screen (a wide table may scroll inside
    its own box; nothing else may)."""
    return list(page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        for (const el of document.querySelectorAll('body *')) {
            let inside = false;  // inside a box that scrolls sideways on its own
            for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                const x = getComputedStyle(up).overflowX;
                if (x === 'auto' || x === 'scroll') { inside = true; break; }
            }
            if (inside) continue;
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 0.5 && getComputedStyle(el).position !== 'fixed')
                out.push(el.tagName + (el.id ? '#' + el.id : '') + ' ' + Math.round(box.right));
        }
        const page = document.documentElement.scrollWidth;
        if (page > width) out.push('page ' + page);
        return out;
    }"""))


def lines_of(page: Any, selector: str) -> int:
    """How many lines the text of ``selector`` takes on the screen."""
    return int(page.evaluate("""s => {
        const el = document.querySelector(s);
        const style = getComputedStyle(el);
        const lh = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
        return Math.round(el.getBoundingClientRect().height / lh);
    }""", selector))


def test_the_officer_dashboard_on_a_phone(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    clock.now = datetime.now(UTC) - timedelta(hours=3)  # the pages run on the real clock
    _env, incident = _broken_seal(ctx, network, clock)
    ctx.session.execute(update(Scan).where(Scan.incident_id == incident.id)
                        .values(incident_id=None))
    ctx.session.execute(delete(Incident).where(Incident.id == incident.id))
    network["bm_hcm"].unit_id = network["gd_hcm"].unit_id  # an officer of the post office
    for _ in range(2):
        register(ctx, network, event_at=clock.tick())
    ctx.session.commit()
    ctx.session.close()  # and touch nothing more: an open SQLite transaction locks
    shot = Shots("phone-views-officer")
    officer = people("bm_hcm")
    officer.page.set_viewport_size(PHONE)
    officer.go("/officer/")
    shot(officer, "dashboard")
    assert overflow(officer.page) == []
    # the figures first: the tiles sit two to a row, each big enough to tap
    tiles = [officer.page.locator(f"#stat-{m}").bounding_box()
             for m in ("in_transit", "due_today", "overdue", "incidents", "broken")]
    assert all(t is not None and t["height"] >= 44 for t in tiles), tiles
    assert all(t["width"] >= 150 for t in tiles if t), tiles


def test_the_scan_page_accepting_on_a_phone(ctx: Ctx, network: Network, phone: Tab) -> None:  # noqa: F811
    (number,) = envelopes(ctx, network, 1)  # its label never printed
    set_up_device(phone, device(ctx), "gd_hn")
    page = phone.page
    page.click("button.mode[data-mode='accepted']")
    page.fill("#giver-input", "vt_bnv")
    page.fill("#giver-pin-input", PIN)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_selector("#result:not(.flash)")
    # what the screen shows (the answer bar is fixed to its bottom): the top, then the
    # signature fields and the code field as the clerk scrolls to them
    page.screenshot(path=str(_artifact("phone-views-scan-accepting.png")))
    page.locator("#pin-input").scroll_into_view_if_needed()
    page.focus("#code-input")
    page.screenshot(path=str(_artifact("phone-views-scan-accepting-code.png")))
    assert overflow(page) == []
    # each signature field's label is a short heading with its explanation below it, not a
    # paragraph squeezed above the box
    for label in ("label[for='giver-pin-input']", "label[for='pin-input']"):
        assert lines_of(page, f"{label} .label-main") <= 2, label
    # the PIN boxes and the badge state side by side, inside the screen
    for box_id in ("#giver-pin-input", "#pin-input", "#giver-badge-state", "#badge-state"):
        box = page.locator(box_id).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], (box_id, box)
    pin_box = page.locator("#pin-input").bounding_box()
    state_box = page.locator("#badge-state").bounding_box()
    assert pin_box and state_box and abs(pin_box["y"] - state_box["y"]) < pin_box["height"]

    # accepted: green, with the warning about the label beside it, all on the screen
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")
    scan(phone, number)
    assert number in result(phone, "ok")["title"]
    assert "chưa từng được in" in page.inner_text("#result-warning")
    in_viewport(phone)
    page.screenshot(path=str(_artifact("phone-views-scan-accepted-warning-flash.png")))
    page.wait_for_selector("#result:not(.flash)", timeout=6000)
    bar = in_viewport(phone)
    warning = page.locator("#result-warning").bounding_box()
    assert warning is not None and warning["y"] >= bar["y"]
    assert warning["y"] + warning["height"] <= bar["y"] + bar["height"] + 0.5, (warning, bar)
    page.screenshot(path=str(_artifact("phone-views-scan-accepted-warning.png")))


def test_the_printer_form_on_a_phone(people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    from kt1.services import printing

    printing.add_printer(ctx, None, "nhan-van-thu-bnv-quay-1", "memory://nhan-van-thu-bnv-1",
                         workstation="vt-bnv-may-tram-1", is_default=True)
    ctx.session.commit()
    shot = Shots("phone-views-admin")
    admin = people("admin")
    admin.page.set_viewport_size(PHONE)
    admin.go("/admin/printers")
    shot(admin, "printers")
    assert overflow(admin.page) == []
    for field in ("#name", "#model", "#host", "#port", "#folder", "#uri", "#width_mm",
                  "#workstation"):
        box = admin.page.locator(field).bounding_box()
        assert box is not None and box["x"] >= 0, field
        assert box["x"] + box["width"] <= PHONE["width"] - 8, (field, box)


def _artifact(name: str) -> Any:
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
