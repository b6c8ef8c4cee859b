"""Prometheus metrics (``/metrics`` when ``KT1_METRICS=1``; docs/operations.md).

The counters live here, free of Flask, so the services and the worker count what they do
(``kt1.health`` serves them and times the requests). Labels take their values only from
fixed vocabularies: an event kind, a refusal slug, a print job kind and attempt outcome,
an HTTP method, a route *template* (``/envelopes/<number>``, never the path itself) and a
status code. No envelope number, subject, username, device or printer name is ever a label.

Several gunicorn workers: each process counts in its own memory unless
``PROMETHEUS_MULTIPROC_DIR`` names a directory (emptied before the server starts, as
the systemd unit in deploy/ does with its runtime directory); then every process writes its
counts there and ``/metrics`` adds up all of them (prometheus-client's multiprocess mode).
Without it, a scrape sees the one worker that answered it.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

#: Latency buckets (seconds): a scan answers in milliseconds, a PDF register in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

SCANS = Counter(
    "kt1_scans", "Scans sent by devices to the scanner API, by event kind and outcome "
    "(recorded, replayed, refused, failed).", ["kind", "outcome"])
REFUSALS = Counter(
    "kt1_refusals", "Refusals raised out of a service's transaction, by refusal slug "
    "(docs/rules.md).", ["slug"])
PRINT_ATTEMPTS = Counter(
    "kt1_print_attempts", "Attempts to print a job, by job kind (label, receipt, test) and "
    "outcome (done, unavailable, failed).", ["kind", "outcome"])
REQUEST_SECONDS = Histogram(
    "kt1_request_duration_seconds", "Time to answer an HTTP request, by method, route "
    "template and status code.", ["method", "route", "status"], buckets=LATENCY_BUCKETS)

#: Scan outcomes (the ``outcome`` label of :data:`SCANS`).
SCAN_OUTCOMES = ("recorded", "replayed", "refused", "failed")


def count_scan(kind: str, outcome: str) -> None:
    SCANS.labels(kind=kind, outcome=outcome).inc()


def count_refusal(slug: str) -> None:
    REFUSALS.labels(slug=slug).inc()


def count_print_attempt(kind: str, outcome: str) -> None:
    PRINT_ATTEMPTS.labels(kind=kind, outcome=outcome).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method=method, route=route, status=str(status)).observe(seconds)


def multiprocess_dir() -> str | None:
    """The shared directory of prometheus-client's multiprocess mode, when it is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> tuple[bytes, str]:
    """The text exposition format of every KT1 metric (all processes' in multiprocess mode),
    with its content type."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
