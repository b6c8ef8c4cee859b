"""``/healthz`` as JSON (database, migrations, print queue, checkpoint age, worker heartbeat)
and ``/metrics`` in Prometheus text format, only with ``KT1_METRICS=1`` (docs/operations.md).

The counters are process-wide, so each test reads them before and after what it does."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from kt1 import create_app
from kt1.errors import PrinterOfflineError
from kt1.extensions import db
from kt1.services import printing
from kt1.services.checkpoints import create_checkpoint
from kt1.services.context import Ctx
from kt1.services.devices import add_device
from tests.conftest import PIN, Network, base_config
from tests.fakes.printer import FakePrinter
from tests.journey import register
from tests.web.conftest import BASE, Browser

KEY = base64.b64encode(hashlib.sha256(b"kt1 test checkpoint key").digest()).decode()
HEALTH_KEYS = {"status", "database", "migrations", "print_jobs_waiting",
               "last_checkpoint_age_seconds", "worker_heartbeat_age_seconds"}


@pytest.fixture
def metered(app: Flask) -> Flask:
    """The test app with ``KT1_METRICS=1`` (read on each request)."""
    app.config["METRICS"] = True
    return app


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics")
    assert r.status_code == 200, r.status_code
    assert r.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_reports_database_migrations_print_queue_checkpoint_and_worker(
        app: Flask, ctx: Ctx, network: Network, clock: Any) -> None:
    client = app.test_client()
    r = client.get("/healthz")
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.json
    assert set(body) == HEALTH_KEYS, body
    assert body["status"] == "ok" and body["database"] == "ok" and body["migrations"] == "head"
    assert body["print_jobs_waiting"] == 0
    assert body["last_checkpoint_age_seconds"] is None  # never signed yet
    assert body["worker_heartbeat_age_seconds"] is None  # wired once the worker is merged

    # a label for a printer that is off waits in the queue
    with FakePrinter(mode="closed") as off:
        printing.add_printer(ctx, None, "nhan-tat", off.uri(), workstation="quay-9",
                             profile="TM-T20II", width_mm=80)
        envelope = register(ctx, network)
        with pytest.raises(PrinterOfflineError):
            printing.print_label(ctx, network["vt_bnv"], envelope.number,
                                 workstation="quay-9")
    # a checkpoint signed now, by the real clock (the age is measured against it)
    ctx.now = lambda: datetime.now(UTC)
    ctx.settings = dataclasses.replace(ctx.settings, checkpoint_key=KEY)
    create_checkpoint(ctx)
    body = client.get("/healthz").json
    assert body["print_jobs_waiting"] == 1
    age = body["last_checkpoint_age_seconds"]
    assert isinstance(age, float | int) and 0 <= age < 60, body
    assert body["status"] == "ok"


def test_healthz_says_when_the_schema_is_not_migrated(tmp_path: Path) -> None:
    """A database that answers but was never migrated: 503, migrations behind."""
    server = create_app({**base_config(tmp_path), "AUTO_MIGRATE": False,
                         "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    try:
        r = server.test_client().get("/healthz")
        assert r.status_code == 503
        assert r.json["database"] == "ok" and r.json["migrations"] == "behind"
        assert r.json["status"] == "migrations_behind"
        assert int(r.headers["Retry-After"]) > 0
    finally:
        with server.app_context():
            db.engine.dispose()


def test_metrics_is_a_404_unless_turned_on(app: Flask) -> None:
    assert not app.config["METRICS"]
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", base_url=BASE).status_code == 404


def test_metrics_count_scans_refusals_print_outcomes_and_time_requests(
        metered: Flask, ctx: Ctx, network: Network) -> None:
    client = metered.test_client()
    before = scrape(client)
    envelope = register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=4))
    _device, token = add_device(ctx, None, f"dev-metrics-{uuid.uuid4().hex[:6]}", "BC-HN")
    headers = {"Authorization": f"Bearer {token}"}
    at = datetime.now(UTC) - timedelta(hours=3)
    accept = {"scan_id": str(uuid.uuid4()), "operator": "gd_hn", "number": envelope.number,
              "kind": "accepted", "event_at": at.isoformat(), "giver": "vt_bnv",
              "receiver": "gd_hn", "receipt": {"method": "badge",
                                               "secret": network.badges["gd_hn"]},
              "giver_receipt": {"method": "pin", "secret": PIN}}
    assert client.post("/api/v1/handoffs", json=accept, headers=headers).status_code == 201
    assert client.post("/api/v1/handoffs", json=accept, headers=headers).status_code == 200
    # a scan the service refuses: the courier hands over an envelope he does not hold
    wrong = {**accept, "scan_id": str(uuid.uuid4()), "kind": "out_for_delivery",
             "giver": "bt_hn", "receiver": "gd_hn", "event_at": (at + timedelta(minutes=5))
             .isoformat(), "receipt": {"method": "pin", "secret": PIN},
             "giver_receipt": {"method": "pin", "secret": PIN}}
    refused = client.post("/api/v1/handoffs", json=wrong, headers=headers)
    assert refused.status_code in (403, 409, 422), refused.json
    slug = refused.json["error"]
    assert client.get(f"/api/v1/envelopes/{envelope.number}", headers=headers
                      ).status_code == 200
    # a label printed, and one for a printer that is off
    with FakePrinter() as on, FakePrinter(mode="closed") as off:
        printing.add_printer(ctx, None, "nhan-bat", on.uri(), workstation="quay-1",
                             profile="TM-T20II", width_mm=80)
        printing.add_printer(ctx, None, "nhan-tat", off.uri(), workstation="quay-2",
                             profile="TM-T20II", width_mm=80)
        printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation="quay-1",
                             reason="in lại để thử")
        with pytest.raises(PrinterOfflineError):
            printing.print_label(ctx, network["vt_bnv"], envelope.number,
                                 workstation="quay-2", reason="in lại để thử")

    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("kt1_scans_total", kind="accepted", outcome="recorded") == 1
    assert delta("kt1_scans_total", kind="accepted", outcome="replayed") == 1
    assert delta("kt1_scans_total", kind="out_for_delivery", outcome="refused") == 1
    assert delta("kt1_refusals_total", slug=slug) >= 1
    assert delta("kt1_print_attempts_total", kind="label", outcome="done") == 1
    assert delta("kt1_print_attempts_total", kind="label", outcome="unavailable") == 1
    route = "/api/v1/envelopes/<string:number>"
    assert delta("kt1_request_duration_seconds_count", method="GET", route=route,
                 status="200") == 1
    assert delta("kt1_request_duration_seconds_count", method="POST",
                 route="/api/v1/handoffs", status="201") == 1
    assert delta("kt1_request_duration_seconds_bucket", method="GET", route=route,
                 status="200", le="+Inf") == 1

    # nothing that names an envelope, a person, a device or a printer is a label
    text = client.get("/metrics").get_data(as_text=True)
    for secret in (envelope.number, "gd_hn", "vt_bnv", "bt_hn", "dev-metrics", "nhan-bat",
                   token, envelope.document_number or "15/KH-BNV"):
        assert secret not in text, secret


def test_a_signed_in_page_is_timed_under_its_route_template(
        metered: Flask, network: Network) -> None:
    browser = Browser(metered.test_client())
    before = scrape(browser.client)
    assert browser.sign_in("vt_bnv").status_code == 302
    after = scrape(browser.client)
    key = dict(method="POST", route="/login", status="302")
    assert (value(after, "kt1_request_duration_seconds_count", **key)
            - value(before, "kt1_request_duration_seconds_count", **key)) == 1
