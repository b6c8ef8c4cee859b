"""Property-based tests of the scanner API from its own OpenAPI document (schemathesis).

For every operation in ``/api/v1/openapi.json`` schemathesis generates requests, valid and
invalid ones, and sends them to the WSGI app with a valid device token: no answer may be a
5xx, and every answer must match what the document promises (status code, content type,
body schema).

Requests made only of random strings stop at the first lookup (an unknown operator, an
invalid number), so half of the valid requests are steered onto the test network: a real
operator of the device's unit, real envelopes and bags, real givers and receivers, the
right PIN or badge, a device time of now. Those reach the custody rules and the success
responses, whose bodies are then checked against the document as well.

The number of examples is bounded so that the run takes about a minute; ``derandomize``
keeps CI reproducible. ``KT1_SCHEMATHESIS_EXAMPLES=500 KT1_SCHEMATHESIS_RANDOM=1`` makes a
longer, random hunt.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kt1.services import bagging, custody
from kt1.services.context import Ctx
from tests.api.conftest import Scanner
from tests.conftest import PIN, Network, pin
from tests.journey import register

EXAMPLES = int(os.environ.get("KT1_SCHEMATHESIS_EXAMPLES", "40"))
RANDOM = os.environ.get("KT1_SCHEMATHESIS_RANDOM") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
OPERATORS = ["gd_hn", "gd2_hn", "bt_hn"]  # users of BC-HN, the device's unit
PEOPLE = ["vt_bnv", "gd_hn", "bt_hn", "vt_hcm", "gd_hcm", "bt_hcm", "nobody"]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """One engine is enough for fuzzing the HTTP edge; the API tests run on both."""
    return str(request.param)


@dataclass
class World:
    """What the fixture built: envelope numbers (the first six accepted) and two bags."""

    numbers: list[str]
    bags: list[str]


@pytest.fixture
def world(app: Flask, ctx: Ctx, network: Network) -> World:
    """Envelopes at every early stage, and bags open and sealed at BC-HN."""
    now = datetime.now(UTC)
    numbers = [register(ctx, network, event_at=now - timedelta(hours=3)).number
               for _ in range(10)]
    at = now - timedelta(hours=2)
    for number in numbers[:6]:  # accepted at the Hà Nội counter
        at += timedelta(minutes=1)
        custody.accept_at_counter(ctx, network["gd_hn"], number, network["vt_bnv"],
                                  pin(network["gd_hn"]), str(uuid.uuid4()), at,
                                  giver_receipt=pin(network["vt_bnv"]))
    open_bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", str(uuid.uuid4())).bag.number
    sealed = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", str(uuid.uuid4())).bag.number
    for number in numbers[:2]:
        at += timedelta(minutes=1)
        bagging.add_to_bag(ctx, network["gd_hn"], sealed, number, str(uuid.uuid4()), at)
    bagging.seal_bag(ctx, network["gd_hn"], sealed, "NP-1", str(uuid.uuid4()),
                     at + timedelta(minutes=1), tracker_id="GPS-1")
    ctx.session.commit()
    return World(numbers=numbers, bags=[open_bag, sealed])


@pytest.fixture
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def device_headers(scanner: Callable[[str], Scanner], ctx: Ctx) -> dict[str, str]:
    headers = scanner("BC-HN").headers()
    ctx.session.commit()
    return headers


def steered(world: World, badges: dict[str, str]) -> st.SearchStrategy[Callable[[Any], Any]]:
    """A function that puts real names, numbers, secrets and times into a generated case."""
    numbers = st.sampled_from(world.numbers)
    people = st.sampled_from(PEOPLE)

    @st.composite
    def plan(draw: Any) -> Callable[[Any], Any]:
        choice = {
            "number": draw(numbers), "bag": draw(st.sampled_from(world.bags)),
            "operator": draw(st.sampled_from(OPERATORS)), "giver": draw(people),
            "receiver": draw(people), "courier": draw(st.sampled_from(["bt_hn", "bt_hcm"])),
            "numbers": draw(st.lists(numbers, max_size=4)),
            "ack": draw(st.sampled_from(["pin", "badge", "paper"])),
            "seconds": draw(st.integers(min_value=0, max_value=600)),
            "coherent": draw(st.booleans()),
            "fresh": draw(st.sampled_from(world.numbers[6:])),
        }

        def accept(number: str) -> dict[str, Any]:
            """A counter acceptance that the custody rules can take."""
            return {"scan_id": str(uuid.uuid4()), "operator": "gd_hn", "number": number,
                    "kind": "accepted", "giver": "vt_bnv", "receiver": "gd_hn",
                    "receipt": {"method": "pin", "secret": PIN},
                    "event_at": datetime.now(UTC).isoformat()}

        def apply(case: Any) -> Any:
            if case.path_parameters:
                for key in ("number", "bag"):
                    if key in case.path_parameters:
                        case.path_parameters[key] = choice[key]
            body = case.body
            if not isinstance(body, dict):
                return case
            for key in ("operator", "number", "giver", "receiver", "courier", "numbers"):
                if key in body:
                    body[key] = choice[key]
            if "event_at" in body:
                moment = datetime.now(UTC) - timedelta(seconds=choice["seconds"])
                body["event_at"] = moment.isoformat()
            if isinstance(body.get("receipt"), dict):
                who = body.get("receiver") or body.get("courier") or choice["operator"]
                secret = PIN if choice["ack"] == "pin" else badges.get(who, "B0")
                body["receipt"] = {"method": choice["ack"], "secret": secret,
                                   "reference": "SO-1"}
            if "scan_id" in body:
                body["scan_id"] = str(uuid.uuid4())
            if choice["coherent"] and body.get("kind") is not None and "giver" in body:
                body.update(accept(choice["fresh"]))
            if choice["coherent"] and isinstance(body.get("items"), list):
                body["items"] = [accept(choice["fresh"]), *body["items"][:3],
                                 accept(choice["number"])]
            return case

        return apply

    return plan()


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str],
         steer: st.SearchStrategy[Callable[[Any], Any]] | None) -> None:
    """Send ``EXAMPLES`` generated requests for ``operation`` and check every answer."""
    strategy = operation.as_strategy(generation_mode=mode)
    if steer is not None:  # half as generated, half put onto the test network
        strategy = st.one_of(strategy, st.tuples(strategy, steer).map(lambda p: p[1](p[0])))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_the_api_never_answers_5xx_and_always_matches_its_document(
        api_schema: Any, world: World, network: Network,
        device_headers: dict[str, str]) -> None:
    """Every operation, valid and invalid requests: all answers are documented, none 5xx."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/v1/device", "POST /api/v1/handoffs", "POST /api/v1/handoffs/batch"}
    steer = steered(world, network.badges)
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, device_headers,
                     steer if mode is GenerationMode.POSITIVE else None)
            except Exception as exc:  # collect every finding, then fail with all of them
                failures.append(f"{operation.label} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)
