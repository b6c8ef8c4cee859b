"""A whole day in Debian's chromium, through the pages people use, and every page checked
for requests outside the server.

(a) A registry clerk registers a Hỏa tốc Tối mật envelope and prints its label on a capture
printer; the Hà Nội counter accepts it against the handover sheet, bags, seals and dispatches
it; the TP Hồ Chí Minh office receives and opens the bag and sends it out for delivery; the
courier delivers it; the recipient's clerk registers it on arrival; the security officer
sees a complete chain. A screenshot of each step goes to ``test-artifacts/``.

(b) Every page, signed in as each role, loads without one request leaving the server and
without a Content Security Policy violation.

The session cookie is Secure: chromium keeps Secure cookies for http://127.0.0.1 (a
potentially trustworthy origin), so the live server is plain http.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from kt1.models import Envelope
from kt1.models.enums import EventKind, Role
from kt1.services import (
    checkpoints,
    custody,
    handover,
    incidents,
    inspection,
    leaving,
    printing,
    sheets,
)
from kt1.services.context import Ctx, Settings
from printers import captured
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, PIN, Clock, Network, new_scan, pin
from tests.journey import carry, register
from tests.years import registered_year

KEY = base64.b64encode(hashlib.sha256(b"kt1 browser test key").digest()).decode()


@dataclass
class Person:
    """One person's own browser (a fresh context: their own cookies), on the live server."""

    name: str
    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        response = self.page.goto(self.origin + path)
        assert response is not None and response.status < 400, f"{path}: {response.status}"
        return response

    def submit(self, form: str, button: str = "button[type=submit]") -> None:
        """Submit ``form`` (a selector) with its button and wait for the next page."""
        with self.page.expect_navigation():
            self.page.click(f"{form} {button}")

    def text(self, selector: str = "main") -> str:
        return str(self.page.inner_text(selector))

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def outside(self) -> list[str]:
        return [u for u in self.requests
                if not (u.startswith(self.origin + "/") or u.startswith(("data:", "blob:")))]

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


@pytest.fixture
def people(browser: Any, live_server: str) -> Iterator[Any]:
    """``people("vt_bnv")`` signs that user in, in a browser of their own (``None``: a
    signed-out visitor)."""
    contexts = []

    def sign_in(username: str | None) -> Person:
        context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                      viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        person = Person(name=username or "guest", page=page, origin=live_server)
        context.on("request", lambda r: person.requests.append(r.url))
        page.on("console", lambda m: person.console.append(f"{m.type}: {m.text}"))
        if username is None:
            return person
        person.go("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        person.submit("main form")
        assert "/login" not in page.url, f"{username} could not sign in: {person.text()}"
        return person

    yield sign_in
    for context in contexts:
        context.close()


class Shots:
    """Numbered screenshots of the day, in test-artifacts/."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.n = prefix, 0
        ARTIFACTS.mkdir(exist_ok=True)
        for old in ARTIFACTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def __call__(self, person: Person, name: str) -> None:
        self.n += 1
        person.page.screenshot(path=str(ARTIFACTS / f"{self.prefix}-{self.n:02d}-{name}.png"),
                               full_page=True)


# --------------------------------------------------------------------------- (a) a day


def test_a_whole_day_from_registration_to_a_complete_chain_in_the_browser(
        people: Any, ctx: Ctx, network: Network) -> None:
    printer = f"nhan-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, printer, f"memory://{printer}", workstation="van-thu-bnv")
    ctx.session.commit()
    shot = Shots("day")

    # 1. The BNV registry clerk registers a Hỏa tốc Tối mật envelope for UBND TP HCM.
    clerk = people("vt_bnv")
    clerk.go("/clerk/envelopes/new")
    page = clerk.page
    page.select_option("#recipient_unit", "UBND-HCM")
    page.select_option("#classification", "secret")
    page.select_option("#service", "flash")
    page.select_option("#urgency", "flash")
    page.fill("#document_number", "88/CV-BNV")
    page.fill("#drafter_name", "Nguyễn Văn Soạn")  # Tối mật: drafter, signer and basis
    page.fill("#signer_name", "Trần Văn Ký")
    page.fill("#signer_title", "Chánh Văn phòng")
    page.fill("#classification_basis", "Khoản 2 Điều 1 Danh mục bí mật nhà nước ngành Nội vụ")
    shot(clerk, "clerk-register-form")
    clerk.submit("#register-form")
    number = re.search(r"/clerk/envelopes/([A-Z0-9]+)$", page.url).group(1)  # type: ignore[union-attr]
    assert "Đã vào sổ đi" in clerk.flash()

    # 2. She prints its label on the capture printer; the page says which printer.
    page.select_option("#printer", printer)
    clerk.submit(f"form[action$='/clerk/envelopes/{number}/label']")
    assert f"Đã in nhãn {number} trên máy in {printer}" in clerk.flash()
    assert len(captured(printer)) == 1
    shot(clerk, "clerk-label-printed")

    # 3. She lists it on a handover sheet for the Hà Nội KT1 post office.
    clerk.go("/clerk/handover")
    page.check(f"#pick-{number}")
    page.select_option("#post_office", "BC-HN")
    clerk.submit("main form.card")
    sheet = re.search(r"/clerk/handover/([^/?]+)$", page.url).group(1)  # type: ignore[union-attr]
    shot(clerk, "clerk-handover-sheet")

    # 4. The counter clerk reconciles the envelope against the sheet and signs for it.
    counter = people("gd_hn")
    counter.go(f"/counter/sheets/{sheet}")
    counter.page.fill("textarea[name=scanned]", number)
    counter.submit(f"form[action$='/counter/sheets/{sheet}']")
    shot(counter, "counter-reconciled")
    counter.submit("form.sign-form")
    assert "Đã ký nhận 1 bưu gửi" in counter.flash()
    shot(counter, "counter-signed")

    # 5. ...makes up a bag for TP HCM, puts the envelope in, seals and dispatches it.
    counter.go("/counter/bags")
    counter.page.select_option("select[name=destination]", "BC-HCM")
    counter.submit("form[method=post]:has(select[name=destination])")
    bag = re.search(r"/counter/bags/([^/?]+)$", counter.page.url).group(1)  # type: ignore[union-attr]
    counter.page.fill("textarea[name='a-numbers']", number)
    counter.submit(f"form[action$='/bags/{bag}/add']")
    counter.page.fill("input[name='s-seal_number']", "NP-2026-0001")
    counter.page.fill("input[name='s-tracker_id']", "GPS-17")
    counter.submit(f"form[action$='/bags/{bag}/seal']")
    shot(counter, "counter-bag-sealed")
    counter.page.select_option("select[name='d-courier']", "bt_hn")
    counter.page.fill("input[name='d-pin']", PIN)
    counter.page.fill("input[name='d-vehicle']", "29A-123.45")
    counter.submit(f"form[action$='/bags/{bag}/dispatch']")
    assert "Đang vận chuyển" in counter.text()
    shot(counter, "counter-bag-dispatched")

    # 6. The TP HCM office receives the bag (seal checked) from the courier, who identifies
    #    with his PIN (both sides present), and opens it against the manifest.
    office = people("gd_hcm")
    office.go(f"/counter/bags/{bag}")
    office.page.fill("input[name='r-seal_number']", "NP-2026-0001")
    office.submit(f"form[action$='/bags/{bag}/receive']")
    assert "Bưu tá giao túi phải có mặt" in office.text()  # not without him
    office.page.fill("input[name='r-seal_number']", "NP-2026-0001")
    office.page.fill("input[name='r-courier_pin']", PIN)
    office.submit(f"form[action$='/bags/{bag}/receive']")
    assert "Đã nhận túi" in office.flash()
    office.page.fill("textarea[name='o-numbers']", number)
    office.submit(f"form[action$='/bags/{bag}/open']")
    shot(office, "office-bag-opened")

    # 7. ...and sends the envelope out with a courier, who signs with his PIN.
    office.go("/counter/delivery")
    office.page.check(f"#pick-{number}")
    office.page.select_option("select[name=courier]", "bt_hcm")
    office.page.fill("input[name=pin]", PIN)
    office.submit("main form.card")
    shot(office, "office-out-for-delivery")

    # 8. The courier delivers it; the recipient's registry clerk signs with her PIN.
    courier = people("bt_hcm")
    courier.go("/counter/round")
    courier.page.select_option("form[action$='/round/deliver'] select", "vt_hcm")
    courier.page.fill("form[action$='/round/deliver'] input[type=password]", PIN)
    courier.submit("form[action$='/round/deliver']")
    shot(courier, "courier-delivered")

    # 9. The recipient's clerk enters it in the incoming register.
    recipient = people("vt_hcm")
    recipient.go("/clerk/incoming")
    recipient.page.fill("textarea[name=numbers]", number)
    recipient.submit("main form.card")
    assert number in recipient.text()
    shot(recipient, "recipient-registered")

    # 10. The sender's security officer sees a complete, unbroken chain.
    officer = people("bm_bnv")
    officer.go(f"/officer/envelopes/{number}")
    verdict = officer.text("#verdict")
    assert "Hoàn tất" in verdict and "Không có phát hiện nào" in verdict, verdict
    chain = officer.text("#chain")
    for step in ("Vào sổ đi", "Chấp nhận tại quầy", "Đóng vào túi", "Niêm phong túi",
                 "Chuyển đi", "Nhận túi", "Mở túi", "Giao bưu tá đi phát", "Phát cho văn thư",
                 "Vào sổ đến"):
        assert step in chain, f"{step} missing from the chain"
    assert printer in officer.text("#prints")
    shot(officer, "officer-complete-chain")
    officer.go("/officer/")
    shot(officer, "officer-dashboard")

    # 11. ...and downloads the outgoing register, with the progress of the export shown.
    officer.go("/officer/registers/outgoing")
    assert "88/CV-BNV" in officer.text("#register")
    year = envelope_year(ctx, number)
    for button, suffix in (("#export-pdf", ".pdf"), ("#export-xlsx", ".xlsx")):
        with officer.page.expect_download() as download:
            officer.page.click(button)
        assert download.value.suggested_filename == f"so-di-BNV-{year}{suffix}"
        officer.page.wait_for_selector(".export-status:has-text('Đã tải xong.')")
    shot(officer, "officer-register-exported")

    ctx.session.rollback()
    envelope = ctx.session.execute(select(Envelope).where(Envelope.number == number)
                                   ).unique().scalar_one()
    assert envelope.status.value == "arrived" and envelope.chain_length == 10
    for person in (clerk, counter, office, courier, recipient, officer):
        assert person.outside() == [], person.name
        assert person.csp_violations() == [], person.name


def envelope_year(ctx: Ctx, number: str) -> int:
    """The register year of the envelope: the Vietnam year of the instant it was registered
    (read back, not a second now()), the read transaction ended at once."""
    year = registered_year(ctx.session, number)
    ctx.session.rollback()
    return year


# --------------------------------------------------------------------------- (b) every page


def sample_data(app: Flask, ctx: Ctx, network: Network) -> dict[str, str]:
    """Something to show on every page: envelopes in several stages, a handover sheet,
    a bag, a printer, a device and a checkpoint."""
    app.config["CHECKPOINT_KEY"] = KEY
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(hours=3)
    ctx.now = clock
    arrived = register(ctx, network, subject="Kế hoạch mẫu", event_at=clock.tick())
    carry(ctx, network, clock, arrived, until="arrived")
    in_bag = register(ctx, network, event_at=clock.tick())
    bag = carry(ctx, network, clock, in_bag, until="dispatched", seal="NP-9")["bag"]
    listed = register(ctx, network, event_at=clock.tick())
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [listed.number], "BC-HN")
    printing.add_printer(ctx, None, "may-in-mau", "memory://may-in-mau")
    from kt1.services.devices import add_device

    add_device(ctx, None, "quay-mau", "BC-HN")
    # an internal handover sheet (docs/rules.md, rule A8), a damage report the sending
    # unit's head and security officer receive, and a handover record of someone who left
    kept = register(ctx, network, event_at=clock.tick())
    internal = sheets.prepare_internal_sheet(ctx, network["vt_bnv"], "head_bnv", [kept.number])
    ctx.session.commit()
    incident = incidents.report_incident(ctx, network["gd_hn"], "damage", "Bì bị ướt",
                                         number=listed.number)
    given = register(ctx, network, event_at=clock.tick())
    custody.record_handoff(ctx, network["vt_bnv"], custody.HandoffRequest(
        number=given.number, kind=EventKind.CIRCULATED_FOR_DIRECTION, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_bnv"], receiver=network["head_bnv"],
        receipt=pin(network["head_bnv"])))
    record = leaving.hand_over_all(ctx, network["admin"], "head_bnv", "vt_bnv",
                                   pin(network["vt_bnv"]))
    report = inspection.run_self_inspection(ctx, network["head_bnv"], "BNV")
    values = {"number": arrived.number, "bag": bag, "sheet": sheet.number,
              "inspection": report.number,
              "internal": internal.number, "record": record.number,
              "incident_id": str(incident.id),
              "day": "2099-01-01", "username": "vt_hcm", "name": "quay-mau", "code": "BNV",
              "printer": "may-in-mau"}
    ctx.settings = Settings.from_mapping(app.config)
    checkpoints.create_checkpoint(ctx)
    ctx.session.commit()  # and touch nothing after: an open SQLite transaction locks writers
    return values


def pages_for(app: Flask, role: Role, values: dict[str, str]) -> list[str]:
    """Every GET page the role may open (downloads excepted: they render no page)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.endswith((".pdf", ".xlsx", ".txt", ".js")):
            continue
        view = app.view_functions[rule.endpoint]
        if role not in getattr(view, "roles", ()):
            continue
        # a <number> names a handover sheet or a bag on those pages, else an envelope
        own = {"/clerk/handover/": "sheet", "/counter/sheets/": "sheet", "/counter/bags/": "bag",
               "/clerk/internal/": "internal", "/admin/handover-records/": "record",
               "/reports/self-inspection/": "inspection"}
        kind = next((v for k, v in own.items() if rule.rule.startswith(k)), "number")
        here = {**values, "number": values[kind]}
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m, v=here: v.get(m.group(1), "x"),
                      rule.rule.replace("<any(outgoing,incoming,handover):kind>", "{kind}"))
        if "{kind}" in path:
            paths += [path.replace("{kind}", k) for k in ("outgoing", "incoming", "handover")]
        else:
            paths.append(path)
    return sorted(set(paths))


#: Every page at both sizes staff use (a desk and a phone), for a person to look at.
PAGES = ARTIFACTS / "pages"
SIZES = {"desk": (1366, 900), "phone": (412, 915)}


def both_sizes(page: Any, who: str, path: str) -> list[str]:
    """Shoot the open page at 1366×900 and at 412×915 into ``test-artifacts/pages/<size>/``;
    returns the sizes at which the page itself is wider than the screen."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
    wide = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        (PAGES / size).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(PAGES / size / f"{who}-{slug}.png"), full_page=True)
        if page.evaluate("document.documentElement.scrollWidth") > width + 1:
            wide.append(f"{size} {who} {path}")
    page.set_viewport_size({"width": 1280, "height": 900})
    return wide


#: Users who receive incidents (kt1/services/incidents.py): a head of unit, a security officer.
INBOX_USERS = {"head_bnv", "bm_bnv"}
USERS = {
    Role.REGISTRY_CLERK: "head_bnv",
    Role.COUNTER_CLERK: "gd_hn",
    Role.COURIER: "bt_hn",
    Role.SECURITY_OFFICER: "bm_bnv",
    Role.ADMINISTRATOR: "admin",
}


def test_every_page_of_every_role_loads_nothing_from_outside_the_server(
        people: Any, app: Flask, ctx: Ctx, network: Network, live_server: str) -> None:
    values = sample_data(app, ctx, network)
    shot = Shots("pages")
    for old in PAGES.glob("*/*.png"):
        old.unlink()
    visited, failures, overflow = 0, [], []
    for role, username in USERS.items():
        paths = pages_for(app, role, values)
        assert paths, f"no page for {role}"
        person = people(username)
        if username not in INBOX_USERS:  # the incident inbox is for heads and officers,
            # and so are a unit's self-inspection reports and (with the administrator)
            # its statistics: a head of unit may hold any role, the service decides
            paths = [p for p in paths if not p.startswith((
                "/incidents/", "/reports/self-inspection/",
                *(() if username == "admin" else ("/reports/statistics/",))))]
        for path in paths:
            response = person.page.goto(live_server + path)
            person.page.wait_for_load_state("networkidle")
            visited += 1
            if response is None or response.status >= 400:
                failures.append(f"{username} {path}: {response and response.status}")
            overflow += both_sizes(person.page, username, path)
        shot(person, username)
        failures += [f"{username}: requested {u}" for u in person.outside()]
        failures += [f"{username}: {m}" for m in person.csp_violations()]
    for path in ("/login", "/scan/", "/api/v1/docs"):  # public pages, signed out
        guest = people(None)
        guest.page.goto(live_server + path)
        guest.page.wait_for_load_state("networkidle")
        visited += 1
        overflow += both_sizes(guest.page, "guest", path)
        failures += [f"guest {path}: requested {u}" for u in guest.outside()]
        failures += [f"guest {path}: {m}" for m in guest.csp_violations()]
    assert not failures, "\n".join(failures)
    assert visited > 25
    # on a phone a wide table scrolls in its own box: the page is never wider than the screen
    assert not overflow, "wider than the screen:\n" + "\n".join(overflow)
