"""``kt1 badge``: staff badges printed through the label printers, and signing with them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from kt1.models.enums import AckMethod
from kt1.services import custody
from kt1.services.access import Receipt
from kt1.services.badges import is_current_badge, new_badge_code
from kt1.services.context import Ctx
from tests.conftest import Network, pin
from tests.fakes.printer import FakePrinter
from tests.journey import register
from tests.printers.zbar import decode, need_zbar


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


@pytest.fixture
def fake() -> Iterator[FakePrinter]:
    with FakePrinter() as printer:
        yield printer


def current(ctx: Ctx, network: Network, username: str, code: str) -> bool:
    ctx.session.rollback()
    user = network[username]
    ctx.session.refresh(user)
    return is_current_badge(user, code)


def test_a_reissued_badge_is_printed_with_its_code_and_signs_a_handoff_the_old_one_cannot(
        app: Flask, ctx: Ctx, network: Network, fake: FakePrinter) -> None:
    old = network.badges["gd_hn"]
    result = run(app, "badge", "reissue", "gd_hn", "--printer",
                 fake.uri(), "--width", "80")
    assert result.exit_code == 0, result.output
    assert "Đã in thẻ mới của gd_hn" in result.output and "Thẻ cũ không còn" in result.output
    fake.settle()
    (printout,) = fake.printouts()
    (code,) = printout.code128
    assert printout.qr == [code]
    assert code.startswith("B") and len(code) == 21
    assert code not in result.output  # the code is on the badge only
    assert current(ctx, network, "gd_hn", code)
    assert not current(ctx, network, "gd_hn", old)

    envelope = register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=1))
    signed = custody.accept_at_counter(
        ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
        Receipt(user=network["gd_hn"], method=AckMethod.BADGE, secret=code),
        str(uuid.uuid4()), datetime.now(UTC), giver_receipt=pin(network["vt_bnv"]))
    assert signed.handoff.ack_method is AckMethod.BADGE


def test_a_printer_that_is_off_changes_nothing_and_the_old_badge_still_works(
        app: Flask, ctx: Ctx, network: Network, fake: FakePrinter) -> None:
    old = network.badges["bt_hn"]
    fake.mode = "closed"
    result = run(app, "badge", "reissue", "bt_hn", "--printer", fake.uri())
    assert result.exit_code == 2
    assert "badge_not_printed" in result.output and "thẻ cũ vẫn dùng được" in result.output
    assert current(ctx, network, "bt_hn", old)


def test_a_badge_is_printed_from_its_code_only_when_the_code_is_the_current_one(
        app: Flask, ctx: Ctx, network: Network, fake: FakePrinter, tmp_path: Path) -> None:
    code = network.badges["vt_bnv"]
    wrong = run(app, "badge", "print", "vt_bnv", "--code", new_badge_code(), "--printer",
                fake.uri())
    assert wrong.exit_code == 2 and "badge_code_invalid" in wrong.output
    assert fake.printouts() == []

    printed = run(app, "badge", "print", "vt_bnv", "--code", code, "--printer", fake.uri(),
                  "--width", "58")
    assert printed.exit_code == 0, printed.output
    fake.settle()
    assert fake.printouts()[0].code128 == [code]
    assert current(ctx, network, "vt_bnv", code)  # printing it changed nothing

    preview = tmp_path / "badge.png"
    shown = run(app, "badge", "print", "vt_bnv", "--code", code.lower(), "-o", str(preview))
    assert shown.exit_code == 0, shown.output
    need_zbar()
    found = {data for _kind, data in decode(Image.open(preview))}
    assert found == {code}
