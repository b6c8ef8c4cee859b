"""The API under malformed input and faults (issue 9): every answer is JSON with the usual
body, never a 5xx for bad input, never an HTML redirect, and a batch's per-item results are
true whatever happens to one of its items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from kt1.extensions import db
from kt1.models import Handoff, Scan
from kt1.services.context import Ctx
from kt1.services.text import has_forbidden_characters
from tests.api.conftest import Scanner, scan_id
from tests.api.test_api import Times, accept_body, reg
from tests.conftest import PIN, Network

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
BODY_KEYS = {"code", "status", "message", "errors", "error"}


def _error(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json
    assert set(body) == BODY_KEYS, body
    assert body["error"] == slug and body["code"] == status, body
    return body


def _count_by_number(ctx: Ctx, number: str) -> int:
    from kt1.models import Envelope

    envelope_id = ctx.session.execute(
        select(Envelope.id).where(Envelope.number == number)).scalar_one()
    count = ctx.session.execute(select(func.count()).select_from(Handoff).where(
        Handoff.envelope_id == envelope_id)).scalar_one()
    ctx.session.rollback()
    return int(count)


class Fault:
    """Fault injection: the INSERT of the handoff row of one scan id raises ``exc`` once,
    mid-transaction (after the scan id was claimed), as a bug or a dropped database would."""

    def __init__(self) -> None:
        self.scan_id: str | None = None
        self.exc: BaseException = RuntimeError("injected fault")
        self.fired = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                 _context: Any, _executemany: bool) -> None:
        if (self.scan_id and statement.lstrip().upper().startswith("INSERT INTO HANDOFF")
                and self.scan_id in repr(parameters)):
            self.scan_id = None
            self.fired += 1
            raise self.exc


@pytest.fixture
def fault(app: Any) -> Iterator[Fault]:
    injected = Fault()
    event.listen(db.engine, "before_cursor_execute", injected)
    yield injected
    event.remove(db.engine, "before_cursor_execute", injected)


# ------------------------------------------------------------------------------ defect 4


def test_a_batch_reports_what_it_committed_when_one_item_fails_unexpectedly(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], fault: Fault) -> None:
    first, second, third = (reg(ctx, network).number for _ in range(3))
    hn = scanner("BC-HN")
    t = Times()
    items = [accept_body(first, t, network), accept_body(second, t, network),
             accept_body(third, t, network)]
    fault.scan_id = items[1]["scan_id"]

    r = hn.post("/handoffs/batch", {"items": items})

    assert fault.fired == 1
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 500, 201]
    assert results[0]["result"]["handoff"]["kind"] == "accepted"
    assert results[1]["result"] is None
    assert set(results[1]["error"]) == BODY_KEYS
    assert results[1]["error"]["error"] == "internal_error"
    assert "injected" not in results[1]["error"]["message"]  # no internals in the answer
    assert results[2]["result"]["handoff"]["kind"] == "accepted"
    assert (r.json["accepted"], r.json["replayed"], r.json["refused"], r.json["failed"],
            r.json["not_attempted"]) == (2, 0, 0, 1, 0)
    # what the answer says is what is stored: the failed item left nothing, not even its
    # scan id, so sending the batch again records it and replays the two others
    assert [_count_by_number(ctx, n) for n in (first, second, third)] == [2, 1, 2]
    assert ctx.session.get(Scan, items[1]["scan_id"]) is None
    again = hn.post("/handoffs/batch", {"items": items})
    assert [x["status"] for x in again.json["results"]] == [200, 201, 200]


def test_a_later_scan_of_an_envelope_whose_scan_failed_is_not_built_on_it(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], fault: Fault) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    items = [accept_body(number, t, network),
             {"scan_id": scan_id(), "operator": "gd_hn", "number": number,
              "kind": "out_for_delivery", "event_at": t.next(), "giver": "gd_hn",
              "receiver": "bt_hn", "receipt": {"method": "pin", "secret": PIN}}]
    fault.scan_id = items[0]["scan_id"]
    r = hn.post("/handoffs/batch", {"items": items})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert [x["status"] for x in r.json["results"]] == [500, 409]
    assert r.json["results"][1]["error"]["error"] == "depends_on_refused"
    assert _count_by_number(ctx, number) == 1


def test_a_batch_stops_when_the_database_drops_and_marks_the_rest_not_attempted(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], fault: Fault) -> None:
    first, second, third = (reg(ctx, network).number for _ in range(3))
    hn = scanner("BC-HN")
    t = Times()
    items = [accept_body(first, t, network), accept_body(second, t, network),
             accept_body(third, t, network)]
    fault.scan_id = items[1]["scan_id"]
    fault.exc = OperationalError("INSERT INTO handoff", {}, Exception("connection lost"))

    r = hn.post("/handoffs/batch", {"items": items})

    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 503, 503]
    assert results[1]["error"]["error"] == "database_unavailable"
    assert results[2]["error"]["error"] == "not_attempted"
    assert (r.json["accepted"], r.json["failed"], r.json["not_attempted"]) == (1, 1, 1)
    assert [_count_by_number(ctx, n) for n in (first, second, third)] == [2, 1, 1]
    again = hn.post("/handoffs/batch", {"items": items})
    assert [x["status"] for x in again.json["results"]] == [200, 201, 201]


def test_a_nul_in_one_item_of_a_batch_refuses_only_that_item(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    """The drill's request: a valid scan, then one whose operator ends with a NUL."""
    number, other = reg(ctx, network).number, reg(ctx, network).number
    hn = scanner("BC-HN")
    t = Times()
    items = [accept_body(number, t, network),
             accept_body(other, t, network, operator="gd_hn\u0000")]
    r = hn.post("/handoffs/batch", {"items": items})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 422]
    assert results[1]["error"]["error"] == "invalid_field"
    assert "operator" in results[1]["error"]["message"]
    assert [_count_by_number(ctx, n) for n in (number, other)] == [2, 1]
    again = hn.post("/handoffs/batch", {"items": items})
    assert [x["status"] for x in again.json["results"]] == [200, 422]


# ------------------------------------------------------------------------------ defect 5


@pytest.mark.parametrize(("field", "change"), [
    ("operator", {"operator": "gd_hn\u0000"}),
    ("giver", {"giver": "vt_bnv\u0000"}),
    ("receipt.username", {"receipt": {"method": "pin", "secret": PIN,
                                      "username": "gd_hn\u0000"}}),
    ("note", {"note": "a\u0000b"}),
    ("location", {"location": "quầy\u0007 1"}),
    ("operator", {"operator": "gd_hn\ud800"}),  # a lone surrogate cannot be stored either
])
def test_a_control_character_in_any_string_field_is_refused_with_the_field_named(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], snapshot: Snapshot,
        field: str, change: dict[str, Any]) -> None:
    number = reg(ctx, network).number
    hn = scanner("BC-HN")
    before = snapshot()
    body = _error(hn.post("/handoffs", {**accept_body(number, Times(), network), **change}),
                  422, "invalid_field")
    assert body["errors"]["field"] == field
    assert "\u0000" not in body["message"]
    assert snapshot() == before


def test_control_characters_are_refused_by_every_write_endpoint(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    hn = scanner("BC-HN")
    before = snapshot()
    body = _error(hn.post("/bags", {"scan_id": scan_id(), "operator": "gd_hn",
                                    "destination": "BC-HCM\u0000"}), 422, "invalid_field")
    assert body["errors"]["field"] == "destination"
    body = _error(hn.post("/incidents", {"operator": "gd_hn\u0000", "kind": "damage",
                                         "report": "x"}), 422, "invalid_field")
    assert body["errors"]["field"] == "operator"
    body = _error(hn.post("/bags/BC-HN-1/open", {
        "scan_id": scan_id(), "operator": "gd_hn", "numbers": ["KT1", "KT\u00002"],
        "event_at": Times().next()}), 422, "invalid_field")
    assert body["errors"]["field"] == "numbers.1"
    assert snapshot() == before


@pytest.mark.parametrize(("value", "forbidden"), [
    ("gd_hn", False), ("Bưu cục KT1 Hoàn Kiếm", False),
    ("dòng 1\r\ndòng\t2", False),  # line breaks and tabs: each field's own rule decides
    ("a\u0000", True), ("\u0007", True), ("\u001b[31m", True), ("\u007f", True),
    ("\u0085", True), ("\ud800", True), ("\udfff", True),
])
def test_the_general_guard_refuses_controls_and_lone_surrogates(value: str,
                                                                  forbidden: bool) -> None:
    assert has_forbidden_characters(value) is forbidden


@pytest.mark.parametrize("path", [
    "/bags/BC%00X", "/envelopes/KT%00000080VN", "/envelopes/KT000000080VN%00",
    "/bags/BC-HN-1?x=%00", "/device?q=a%00",
])
def test_a_nul_in_the_path_or_query_is_a_4xx(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], path: str) -> None:
    hn = scanner("BC-HN")
    r = hn.get(path)
    assert r.status_code in (404, 422), r.get_data(as_text=True)[:500]
    assert set(r.json) == BODY_KEYS


@pytest.mark.parametrize("path", ["/handoffs", "/handoffs/batch", "/bags"])
def test_a_json_body_nested_50000_deep_is_malformed_json(
        network: Network, scanner: Callable[[str], Scanner], snapshot: Snapshot,
        path: str) -> None:
    hn = scanner("BC-HN")
    before = snapshot()
    deep = b'{"items": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = hn.client.post(f"/api/v1{path}", data=deep, content_type="application/json",
                       headers=hn.headers())
    _error(r, 400, "malformed_json")
    assert snapshot() == before


# ------------------------------------------------------------------------------ defect 9


@pytest.mark.parametrize(("method", "path", "status", "slug"), [
    ("PUT", "/api/v1/handoffs", 405, "method_not_allowed"),
    ("DELETE", "/api/v1/handoffs", 405, "method_not_allowed"),
    ("DELETE", "/api/v1/envelopes/KT000000080VN", 405, "method_not_allowed"),
    ("PATCH", "/api/v1/bags/BC-HN-1", 405, "method_not_allowed"),
    ("GET", "/api/v1/nope", 404, "not_found"),
    ("POST", "/api/v1/nope", 404, "not_found"),
    ("DELETE", "/api/v1/envelopes", 404, "not_found"),
    ("OPTIONS", "/api/v1/nope", 404, "not_found"),
    ("GET", "/api/v1", 404, "not_found"),
])
@pytest.mark.parametrize("token", [True, False])
def test_the_api_answers_unknown_routes_and_methods_with_json_never_a_redirect(
        network: Network, scanner: Callable[[str], Scanner], client: FlaskClient,
        method: str, path: str, status: int, slug: str, token: bool) -> None:
    headers = scanner("BC-HN").headers() if token else {}
    r = client.open(path, method=method, headers={**headers, "Origin": "https://evil.example"},
                    json={"a": 1} if method in ("PUT", "PATCH", "POST") else None)
    assert "Location" not in r.headers
    _error(r, status, slug)
    if status == 405:
        assert "POST" in r.headers["Allow"] or "GET" in r.headers["Allow"]


@pytest.mark.parametrize("token", [True, False])
def test_head_and_options_on_the_api_are_never_redirected(
        network: Network, scanner: Callable[[str], Scanner], client: FlaskClient,
        token: bool) -> None:
    headers = scanner("BC-HN").headers() if token else {}
    r = client.head("/api/v1/nope", headers=headers)
    assert r.status_code == 404 and "Location" not in r.headers
    r = client.head("/api/v1/device", headers=headers)
    assert r.status_code == (200 if token else 401) and "Location" not in r.headers
    r = client.options("/api/v1/handoffs", headers=headers)
    assert "Location" not in r.headers
    if token:
        assert r.status_code == 200 and "POST" in r.headers["Allow"]
    else:
        _error(r, 401, "token_missing")
