"""API fixtures: a test client and device tokens bound to the test network's units."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kt1.services.context import Ctx
from kt1.services.devices import add_device


class Scanner:
    """A device: its bearer token and a client that sends it."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers())

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def scanner(ctx: Ctx, client: FlaskClient, network: Any) -> Callable[[str], Scanner]:
    """``scanner("BC-HN")`` issues a device for that unit and returns it."""

    def make(unit: str) -> Scanner:
        _device, token = add_device(ctx, None, f"dev-{unit}-{uuid.uuid4().hex[:6]}", unit)
        return Scanner(client, token)

    return make


def scan_id() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    return moment.isoformat()
