"""The officer's dashboard tiles and tallies are links into the envelope list, filtered by
status group, classification, service, holding unit and registration dates; the form keeps
its values and an empty result says so."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from kt1.extensions import db
from kt1.services.context import Ctx, Settings
from kt1.web import officer as officer_module
from tests.conftest import Clock, Network
from tests.journey import register
from tests.services.test_verify import drop_append_only
from tests.web.test_officer import at, page, scenario


@pytest.fixture
def server_clock(monkeypatch: pytest.MonkeyPatch, clock: Clock, app: Flask) -> Clock:
    """The officer's pages on the test's clock (as in tests/web/test_officer.py)."""

    def context() -> Ctx:
        return Ctx(session=db.session(), settings=Settings.from_mapping(app.config), now=clock)

    monkeypatch.setattr(officer_module, "service_context", context)
    return clock


def rows(body: str) -> str:
    """The list's table only (the form's options name units, not numbers)."""
    if 'id="envelope-list"' not in body:
        return ""
    start = body.index('id="envelope-list"')
    return body[start:body.index("</table>", start)]


def test_every_tile_links_into_the_list_filtered_by_its_status(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-25T04:00:00")
    body = page(signed_in("bm_bnv").get("/officer/"))
    for metric in ("in_transit", "due_today", "overdue", "broken"):
        assert f'href="/officer/envelopes?status={metric}" id="stat-{metric}"' in body
    assert 'href="#incidents-list" id="stat-incidents"' in body
    assert 'href="/officer/envelopes?unit=BC-HN"' in body  # the by-unit table too
    assert "/officer/envelopes?status=overdue&amp;classification=" in body
    # the attention list gives its findings in words, the code in small print
    assert "Quá chỉ tiêu thời gian" in body
    assert '<small class="code-small"><code>deadline_missed</code></small>' in body


def test_the_list_filters_by_status_group(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-25T04:00:00")
    b = signed_in("bm_bnv")
    overdue = rows(page(b.get("/officer/envelopes?status=overdue")))
    assert numbers["flash"] in overdue
    assert all(numbers[k] not in overdue for k in ("slow", "waiting", "done"))
    moving = rows(page(b.get("/officer/envelopes?status=in_transit")))
    assert numbers["slow"] in moving and numbers["waiting"] in moving
    assert numbers["flash"] not in moving and numbers["done"] not in moving
    complete = rows(page(b.get("/officer/envelopes?status=complete")))
    assert numbers["done"] in complete and numbers["slow"] not in complete
    body = page(b.get("/officer/envelopes?status=broken"))
    assert rows(body) == "" and "Không có bưu gửi nào khớp bộ lọc này." in body

    drop_append_only(ctx)
    ctx.session.execute(text(
        "UPDATE handoff SET note = 'sửa' WHERE envelope_id = "
        "(SELECT id FROM envelope WHERE number = :n) AND seq = 0"), {"n": numbers["waiting"]})
    ctx.session.commit()
    broken = rows(page(b.get("/officer/envelopes?status=broken")))
    assert numbers["waiting"] in broken and numbers["slow"] not in broken


def test_the_list_filters_by_class_service_unit_and_dates_and_keeps_the_values(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-27T02:00:00")
    late = register(ctx, network, document_number="15/BNV-LATE", event_at=server_clock.tick())
    b = signed_in("bm_bnv")
    body = page(b.get("/officer/envelopes?classification=top_secret&service=flash"))
    assert numbers["flash"] in rows(body) and numbers["slow"] not in rows(body)
    assert '<option value="top_secret" selected>' in body
    assert '<option value="flash" selected>' in body
    body = page(b.get("/officer/envelopes?unit=BC-HN"))
    assert numbers["slow"] in rows(body) and numbers["waiting"] not in rows(body)
    assert '<option value="BC-HN" selected>' in body
    body = page(b.get("/officer/envelopes?day_from=2026-11-26&day_to=2026-11-27"))
    assert late.number in rows(body) and numbers["slow"] not in rows(body)
    assert 'value="2026-11-26"' in body and 'value="2026-11-27"' in body
    early = rows(page(b.get("/officer/envelopes?day_to=2026-11-23")))
    assert numbers["slow"] in early and late.number not in early
    # nonsense is ignored, not an error page
    assert b.get("/officer/envelopes?classification=x&day_from=nope&status=z").status_code == 200


def test_the_filters_never_show_another_units_envelope(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-25T04:00:00")
    hn = page(signed_in("bm_hn").get("/officer/envelopes?status=in_transit"))
    assert all(numbers[k] not in rows(hn) for k in ("slow", "waiting", "done", "flash"))
    hn = rows(page(signed_in("bm_hn").get("/officer/envelopes?status=overdue")))
    assert numbers["flash"] in hn and numbers["slow"] not in hn
