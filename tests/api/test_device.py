"""``GET /api/v1/device``: the scan page's set-up asks who its token is and who may work."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.api.conftest import Scanner


def test_a_device_sees_its_unit_and_only_the_operators_of_that_unit(
        scanner: Callable[[str], Scanner]) -> None:
    hn = scanner("BC-HN")
    r = hn.get("/device")
    assert r.status_code == 200, r.json
    assert r.json["unit"] == {"code": "BC-HN", "name": "Bưu cục KT1 Hà Nội",
                              "kind": "post_office"}
    assert r.json["name"].startswith("dev-BC-HN-")
    # the administrator of BC-HN does not scan; nobody of another unit is listed
    assert [o["username"] for o in r.json["operators"]] == ["bt_hn", "gd2_hn", "gd_hn"]
    assert {o["role"] for o in r.json["operators"]} == {"courier", "counter_clerk"}


def test_the_device_endpoint_refuses_a_request_without_a_valid_token(
        client: FlaskClient) -> None:
    for headers, slug in (({}, "token_missing"),
                          ({"Authorization": "Bearer kt1d_nope"}, "token_invalid")):
        r = client.get("/api/v1/device", headers=headers)
        assert r.status_code == 401
        assert r.json["error"] == slug
        assert "message_vi" in r.json["errors"]
