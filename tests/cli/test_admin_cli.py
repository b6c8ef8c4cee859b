"""``kt1 admin create``: the first administrator of a new installation, with their unit, in
one command (docs/operations.md, step 7); refusals leave nothing behind."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1.extensions import db
from kt1.models import Unit, User
from kt1.models.enums import Role
from kt1.services.access import check_secret


def run(app: Flask, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


NEW_UNIT = ("--unit", "SO-TTTT", "--unit-name", "Sở Thông tin và Truyền thông",
            "--unit-kind", "agency", "--province-code", "01", "--province-name", "Hà Nội")


@pytest.mark.bare_db
def test_the_first_administrator_and_their_unit_in_one_command(app: Flask) -> None:
    done = run(app, "admin", "create", "quantri", "--name", "Nguyễn Văn A", *NEW_UNIT,
               input="mat-khau-dai-1\nmat-khau-dai-1\n")  # asked twice, never on the line
    assert done.exit_code == 0, done.output
    assert "Đã tạo quản trị hệ thống quantri (SO-TTTT)" in done.output
    assert "mat-khau-dai-1" not in done.output
    # the command's own session (the fixture's app context): read, then end the transaction
    user = db.session.execute(select(User).where(User.username == "quantri")).scalar_one()
    assert user.role is Role.ADMINISTRATOR and user.unit.code == "SO-TTTT"
    assert check_secret(user.password_hash, "mat-khau-dai-1")
    db.session.rollback()
    units = json.loads(run(app, "unit", "list", "--json").output)
    assert [u["code"] for u in units] == ["SO-TTTT"]
    # a second administrator joins the existing unit without the unit options
    again = run(app, "admin", "create", "quantri2", "--name", "Trần Thị B", "--unit", "so-tttt",
                "--password", "mat-khau-dai-2")
    assert again.exit_code == 0, again.output
    assert "Đã thêm đơn vị" not in again.output


@pytest.mark.bare_db
def test_a_refused_administrator_leaves_no_unit_behind(app: Flask) -> None:
    short = run(app, "admin", "create", "quantri", "--name", "A", *NEW_UNIT,
                "--password", "ngan")
    assert short.exit_code == 2 and "invalid_field" in short.output
    unknown = run(app, "admin", "create", "quantri", "--name", "A", "--unit", "SO-KHAC",
                  "--password", "mat-khau-dai-1")
    assert unknown.exit_code == 2
    assert "--unit-name, --unit-kind, --province-code, --province-name" in unknown.output
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Unit)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0
    db.session.rollback()
