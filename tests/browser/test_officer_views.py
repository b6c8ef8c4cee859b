"""Issue 13, officer views and labels, tried again in Debian's chromium at 1366×900 and on a
412×915 phone: the dashboard tiles open the filtered list, the filters keep their values, a
seal anomaly reads in words and an incident is opened from it; the clerk sees the label
preview and, with no printer declared, prints the label to PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from kt1.models import Incident, Scan
from kt1.services.context import Ctx
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Clock, Network
from tests.journey import register
from tests.services.test_verify import _broken_seal

SIZES = {"desktop": (1366, 900), "phone": (412, 915)}


def test_officer_tiles_filters_findings_and_an_incident_from_a_seal_anomaly(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    clock.now = datetime.now(UTC) - timedelta(hours=3)  # the pages run on the real clock
    env, incident = _broken_seal(ctx, network, clock)
    ctx.session.execute(update(Scan).where(Scan.incident_id == incident.id)
                        .values(incident_id=None))
    ctx.session.execute(delete(Incident).where(Incident.id == incident.id))
    network["bm_hcm"].unit_id = network["gd_hcm"].unit_id  # an officer of the post office
    number = env.number
    ctx.session.commit()
    ctx.session.close()  # and touch nothing more: an open SQLite transaction locks
    shot = Shots("officer-views")

    officer = people("bm_hcm")
    for size, (w, h) in SIZES.items():
        officer.page.set_viewport_size({"width": w, "height": h})
        officer.go("/officer/")
        shot(officer, f"dashboard-{size}")
    officer.page.set_viewport_size({"width": 1366, "height": 900})
    officer.go("/officer/")
    with officer.page.expect_navigation():
        officer.page.click("#stat-broken")
    assert "status=broken" in officer.page.url
    assert officer.page.input_value("#status") == "broken"
    assert number in officer.text("#envelope-list")
    officer.page.select_option("#classification", "top_secret")
    officer.submit("#envelope-filters")
    assert officer.page.input_value("#classification") == "top_secret"
    assert officer.page.input_value("#status") == "broken"
    assert "Không có bưu gửi nào khớp bộ lọc này." in officer.text()
    for size, (w, h) in SIZES.items():
        officer.page.set_viewport_size({"width": w, "height": h})
        shot(officer, f"filtered-empty-{size}")
    officer.page.set_viewport_size({"width": 1366, "height": 900})

    officer.go(f"/officer/envelopes/{number}")
    verdict = officer.text("#verdict")
    assert "Niêm phong bất thường" in verdict and "seal_anomaly" in verdict
    assert "Phương tiện: 29A-12345" in officer.text("#chain")
    assert "vehicle=" not in officer.text("#chain")
    for size, (w, h) in SIZES.items():
        officer.page.set_viewport_size({"width": w, "height": h})
        shot(officer, f"envelope-{size}")
    officer.page.set_viewport_size({"width": 1366, "height": 900})
    officer.page.locator("#verdict details.open-incident summary").first.click()
    form = officer.page.locator("#verdict form.incident-from-finding").first
    form.locator("textarea").fill("Dây niêm phong túi bị đứt khi nhận")
    with officer.page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "Đã mở sự cố số" in officer.flash()
    assert "Không có sự cố nào." not in officer.text()
    assert officer.outside() == [] and officer.csp_violations() == []
    shot(officer, "incident-opened")


def test_the_clerk_previews_the_label_and_prints_it_to_pdf_without_a_printer(
        people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    number = register(ctx, network, document_number="41/BNV-NHAN", urgency="urgent").number
    ctx.session.commit()
    ctx.session.close()
    shot = Shots("clerk-label")
    clerk = people("vt_bnv")
    for size, (w, h) in SIZES.items():
        clerk.page.set_viewport_size({"width": w, "height": h})
        clerk.go(f"/clerk/envelopes/{number}")
        clerk.page.wait_for_function(
            "document.querySelector('#label-preview img').naturalWidth > 0")
        assert clerk.page.evaluate(
            "document.querySelector('#label-preview img').naturalWidth") == 576
        shot(clerk, f"envelope-{size}")
    assert "Chưa có máy in nào được khai báo" in clerk.text("#no-printer")
    with clerk.page.expect_download() as download:
        clerk.page.click("#no-printer #label-pdf")
    with open(download.value.path(), "rb") as f:
        assert f.read().startswith(b"%PDF-")
    assert clerk.outside() == [] and clerk.csp_violations() == []
