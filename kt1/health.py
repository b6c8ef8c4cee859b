"""``/healthz`` (what a probe or an operator checks) and ``/metrics`` (Prometheus).

``/healthz`` is public and answers JSON: the database reachable, the schema at the newest
migration of every branch, the print jobs waiting, the age of the last signed checkpoint
and of the worker's last heartbeat. 200 when the database answers and the schema is at
head, 503 otherwise (with ``Retry-After``). It holds no secret: counts and ages only.

``/metrics`` exists only with ``KT1_METRICS=1`` (a 404 otherwise); see :mod:`kt1.metrics`.
The nginx site in deploy/ lets only the server itself read it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from alembic.runtime.migration import MigrationContext
from flask import Flask, Response, abort, current_app, g, request
from sqlalchemy import func, select

from kt1 import RETRY_AFTER_SECONDS, database, metrics
from kt1.extensions import db
from kt1.models.base import utcnow

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/metrics", "metrics", metrics_view)
    app.before_request(_start_timer)
    app.after_request(_observe)


def _age_seconds(moment: Any) -> float | None:
    """Seconds since ``moment`` (aware UTC on both databases: kt1/models/base.py's type)."""
    if moment is None:
        return None
    return round(max(0.0, (utcnow() - moment).total_seconds()), 1)


def worker_heartbeat_age() -> float | None:
    """WORKER HEARTBEAT: the age in seconds of the worker's last heartbeat (``kt1 worker``,
    docs/worker.md), None when it never beat. Called inside the report's database block, so
    a schema without the heartbeat table reports ``migrations_behind``."""
    from kt1.database import service_context
    from kt1.services.worker import heartbeat_age

    age = heartbeat_age(service_context())
    return None if age is None else round(age.total_seconds(), 1)


def health_report() -> tuple[dict[str, Any], bool]:
    """The report and whether the server is healthy (database up, schema at head)."""
    if not database.database_reachable():
        return {"status": "unavailable", "database": "unavailable"}, False
    from kt1.models.printing import PrintJob, PrintJobState
    from kt1.models.rules import Checkpoint

    report: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        session = db.session
        # on the request's own connection (SQLite: one transaction holds the write lock)
        current = MigrationContext.configure(session.connection()).get_current_heads()
        at_head = set(current) == database.head_revisions()
        waiting = session.execute(select(func.count()).select_from(PrintJob).where(
            PrintJob.state == PrintJobState.QUEUED)).scalar_one()
        last_checkpoint = session.execute(select(func.max(Checkpoint.created_at))).scalar()
        heartbeat_age = worker_heartbeat_age()
        session.rollback()
    except Exception as exc:  # a schema not yet migrated has no tables to count in
        db.session.rollback()
        log.warning("health check: %s", type(exc).__name__)
        report.update({"status": "migrations_behind", "migrations": "behind"})
        return report, False
    report["migrations"] = "head" if at_head else "behind"
    report["print_jobs_waiting"] = int(waiting)
    report["last_checkpoint_age_seconds"] = _age_seconds(last_checkpoint)
    report["worker_heartbeat_age_seconds"] = heartbeat_age
    if not at_head:
        report["status"] = "migrations_behind"
    return report, at_head


def healthz() -> tuple[dict[str, Any], int, dict[str, str]]:
    report, healthy = health_report()
    if healthy:
        return report, 200, {}
    return report, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def metrics_view() -> Response:
    if not current_app.config.get("METRICS"):
        abort(404)
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    if current_app.config.get("METRICS"):
        g.kt1_request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("kt1_request_started", None)
    if started is not None and request.endpoint != "metrics":
        # the route's template, never the path: a number in the URL is not a label
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        metrics.observe_request(request.method, route, response.status_code,
                                time.perf_counter() - started)
    return response
