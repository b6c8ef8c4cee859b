"""The incident inbox pages (hộp thư sự cố): the list, the header count, opening, "Đã nắm",
and the refusals (issue 11 item 5; kt1/web/incidents.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.models import Incident, User
from kt1.services.context import Ctx
from tests.conftest import Clock, Network
from tests.services.test_incident_inbox import REPORT, broken_seal
from tests.web.conftest import Browser

#: Every route of the blueprint, with the test that refuses it to others.
ROUTES = {("GET", "/incidents/"), ("GET", "/incidents/<int:incident_id>"),
          ("POST", "/incidents/<int:incident_id>/acknowledge")}
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="[^"]+"')
_COUNT = re.compile(r'id="incident-count"[^>]*>([^<]*)<')


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def header_count(response: Any) -> str | None:
    match = _COUNT.search(page(response))
    return match.group(1).strip() if match else None


def stored(ctx: Ctx, incident_id: int) -> Incident:
    ctx.session.rollback()
    return ctx.session.execute(select(Incident).where(Incident.id == incident_id)).scalar_one()


def test_a_head_sees_the_count_opens_the_incident_and_acknowledges_it(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    b: Browser = signed_in("head_bnv")
    home = b.get("/")
    assert header_count(home) == "Sự cố chưa nắm: 1"
    listed = b.get("/incidents/")
    assert listed.status_code == 200
    assert f'href="/incidents/{incident.id}"' in page(listed)
    assert REPORT not in page(listed)
    assert stored(ctx, incident.id).head_notified_at is None  # listed is not opened

    shown = b.get(f"/incidents/{incident.id}")
    assert shown.status_code == 200
    assert REPORT in page(shown) and 'id="acknowledge"' in page(shown)
    opened = stored(ctx, incident.id)
    assert opened.head_notified_by_id == network["head_bnv"].id
    assert opened.sender_notified_by_id == network["head_bnv"].id  # head of the sender
    assert opened.acknowledged_at is None

    done = b.post(f"/incidents/{incident.id}/acknowledge")
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/incidents/{incident.id}")
    acked = stored(ctx, incident.id)
    assert acked.acknowledged_by_id == network["head_bnv"].id
    first = acked.acknowledged_at
    after = b.get(f"/incidents/{incident.id}")
    assert "Đã xác nhận nắm sự cố số" in page(after) and 'id="acknowledge"' not in page(after)
    assert header_count(after) == "Sự cố chưa nắm: 0"
    again = b.post(f"/incidents/{incident.id}/acknowledge")  # idempotent
    assert again.status_code == 302
    assert stored(ctx, incident.id).acknowledged_at == first
    assert "<strong>Chưa</strong>" not in page(b.get("/incidents/"))  # listed as acknowledged


def test_the_senders_security_officer_sees_it_too_and_opening_marks_the_sender(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    b = signed_in("bm_bnv")
    assert header_count(b.get("/officer/")) == "Sự cố chưa nắm: 1"
    assert b.get(f"/incidents/{incident.id}").status_code == 200
    seen = stored(ctx, incident.id)
    assert seen.sender_notified_by_id == network["bm_bnv"].id and seen.head_notified_at is None


def test_the_count_is_only_in_the_header_of_those_with_an_inbox(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    broken_seal(ctx, network, clock)
    for name, home in (("vt_bnv", "/clerk/"), ("gd_hn", "/counter/"), ("admin", "/admin/units")):
        response = signed_in(name).get(home)
        assert response.status_code == 200, name
        assert header_count(response) is None, name
    # a head of an uninvolved unit has an inbox, empty
    assert header_count(signed_in("head_hcm").get("/")) == "Sự cố chưa nắm: 0"


def test_anyone_not_a_recipient_gets_the_404_of_an_unknown_incident_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Any) -> None:
    env, incident = broken_seal(ctx, network, clock)
    before = snapshot()["incident"]
    for name in ("head_hcm", "bm_hcm", "vt_bnv", "gd_hn", "admin"):
        b = signed_in(name)
        for path, post in ((f"/incidents/{incident.id}", False),
                           (f"/incidents/{incident.id}/acknowledge", True)):
            unknown_path = path.replace(str(incident.id), str(incident.id + 1000))
            response = b.post(path) if post else b.get(path)
            unknown = b.post(unknown_path) if post else b.get(unknown_path)
            assert response.status_code == unknown.status_code == 404, (name, path)
            body = _TOKEN.sub("", page(response))
            assert body == _TOKEN.sub("", page(unknown)).replace(unknown_path, path), (name, path)
            assert REPORT not in body and env.number not in body
        listed = b.get("/incidents/")
        assert listed.status_code in (200, 403), name
        assert f"/incidents/{incident.id}" not in page(listed), name
    assert signed_in("vt_bnv").get("/incidents/").status_code == 403  # no inbox at all
    assert snapshot()["incident"] == before


def test_acknowledging_without_the_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Any) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    b = signed_in("head_bnv")
    b.get(f"/incidents/{incident.id}")  # opening writes the notice; then nothing more
    before = snapshot()["incident"]
    response = b.post(f"/incidents/{incident.id}/acknowledge", csrf=False)
    assert response.status_code == 400
    assert snapshot()["incident"] == before
    assert stored(ctx, incident.id).acknowledged_at is None


def test_a_signed_out_visitor_is_sent_to_sign_in(
        browser: Browser, ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    for path, post in (("/incidents/", False), (f"/incidents/{incident.id}", False),
                       (f"/incidents/{incident.id}/acknowledge", True)):
        response = browser.post(path) if post else browser.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert stored(ctx, incident.id).acknowledged_at is None


def test_every_route_of_the_inbox_is_guarded_and_has_its_refusal_tests(app: Flask) -> None:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("incident_inbox."):
            continue
        assert getattr(app.view_functions[rule.endpoint], "roles", None), rule.endpoint
        found |= {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert found == ROUTES


# --------------------------------------------------------------------------- users' email


def test_the_administrator_adds_a_user_with_an_email_and_a_bad_one_is_refused_at_its_field(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    assert 'name="email"' in page(b.get("/admin/users"))
    form = {"full_name": "Lê Văn Thủ Trưởng", "role": "registry_clerk", "unit": "BNV",
            "password": "mat-khau-moi-1", "is_unit_head": "y"}
    added = b.post("/admin/users", {**form, "username": "tt2_bnv", "email": "tt@bnv.gov.vn"})
    assert added.status_code == 201
    refused = b.post("/admin/users", {**form, "username": "tt3_bnv", "email": "not an email"})
    assert refused.status_code == 422
    ctx.session.rollback()
    emails = dict(ctx.session.execute(select(User.username, User.email).where(
        User.username.in_(["tt2_bnv", "tt3_bnv"]))).all())
    assert emails == {"tt2_bnv": "tt@bnv.gov.vn"}


def test_kt1_user_add_takes_an_email(app: Flask, network: Network) -> None:
    from tests.cli.test_cli import run

    added = run(app, "user", "add", "thutruong.bnv", "--name", "Nguyễn Văn B", "--role",
                "registry_clerk", "--unit", "BNV", "--password", "mat-khau-dai-1", "--head",
                "--email", "thutruong@bnv.gov.vn")
    assert added.exit_code == 0, added.output
    users = json.loads(run(app, "user", "list", "--unit", "BNV", "--json").output)
    assert {u["username"]: u["email"] for u in users}["thutruong.bnv"] == "thutruong@bnv.gov.vn"
