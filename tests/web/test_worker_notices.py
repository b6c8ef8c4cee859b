"""The worker's reminders (docs/worker.md) in the incident inbox: each recipient sees their
own, once; someone else's inbox does not show them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kt1.models.enums import IncidentKind
from kt1.services import worker
from kt1.services.context import Ctx
from kt1.services.incidents import report_incident
from tests.conftest import Clock, Network
from tests.journey import carry, register


def test_reminders_are_listed_in_their_recipients_inbox_only(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    late = register(ctx, network)
    carry(ctx, network, clock, late, until="dispatched")
    other = register(ctx, network)
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "bì bị rách",
                               number=other.number)
    number = late.number
    clock.now += timedelta(days=30)
    assert worker.give_notices(ctx) >= 3
    page = signed_in("bm_bnv").get("/incidents/").get_data(as_text=True)
    assert 'id="notices"' in page and "Nhắc việc" in page
    assert number in page and f'href="/incidents/{incident.id}"' in page
    assert page.count(number) == 1, "once"
    assert "bì bị rách" not in page
    elsewhere = signed_in("bm_hcm").get("/incidents/").get_data(as_text=True)
    assert number not in elsewhere and 'id="notices"' not in elsewhere


def test_healthz_gives_the_age_of_the_workers_last_heartbeat(
        app: Any, ctx: Ctx, network: Network) -> None:
    client = app.test_client()
    assert client.get("/healthz").json["worker_heartbeat_age_seconds"] is None  # never ran
    worker.beat(ctx, "host:1", worker.code_version(), worker.schema_heads_text())
    age = client.get("/healthz").json["worker_heartbeat_age_seconds"]
    assert isinstance(age, float) and 0 <= age < 60
