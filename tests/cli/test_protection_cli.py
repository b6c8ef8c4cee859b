"""``kt1 protection due|extend|declassify|destroy|rules`` (docs/domain.md §8): decisions for
a registry clerk of the unit holding the document, refusals with exit 2 and the slug."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.extensions import db
from kt1.models import Envelope
from kt1.models.enums import Classification, EnvelopeStatus, Secrecy
from kt1.services.context import Ctx
from tests.conftest import Network
from tests.journey import register


def run(app: Flask, *args: str) -> Any:
    db.session.rollback()
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def envelope(number: str) -> Envelope:
    db.session.rollback()
    return db.session.execute(select(Envelope).where(Envelope.number == number)
                              ).unique().scalar_one()


DECISION = ("--decision", "15/QĐ-BNV", "--decided-by", "Nguyễn Văn Quyết")


def test_due_extend_declassify_destroy_and_rules(app: Flask, ctx: Ctx,
                                                 network: Network) -> None:
    soon = register(ctx, network, classification=Classification.CONFIDENTIAL,
                    document_date=date(2019, 3, 1), protection_until=date(2027, 1, 15))
    far = register(ctx, network, classification=Classification.TOP_SECRET,
                   document_date=date(2026, 1, 2))
    due = json.loads(run(app, "protection", "due", "--json").output)
    assert [r["number"] for r in due] == [soon.number]
    assert due[0]["protection_until"] == "2027-01-15" and due[0]["holder_unit"] == "BNV"
    assert json.loads(run(app, "protection", "due", "--within", "40y", "--unit", "BNV",
                          "--json").output)[-1]["number"] == far.number
    assert json.loads(run(app, "protection", "due", "--unit", "UBND-HN", "--json").output) == []
    assert soon.number in run(app, "protection", "due").output
    bad = run(app, "protection", "due", "--within", "soon")
    assert bad.exit_code == 2 and "[invalid_field]" in bad.output

    short = run(app, "protection", "extend", soon.number, "--user", "vt_bnv", *DECISION,
                "--until", "2027-01-15")
    assert short.exit_code == 2 and "[extension_not_longer]" in short.output
    done = run(app, "protection", "extend", soon.number, "--user", "vt_bnv", *DECISION,
               "--until", "2029-01-15", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["new_until"] == "2029-01-15"
    assert envelope(soon.number).protection_until == date(2029, 1, 15)

    outsider = run(app, "protection", "declassify", soon.number, "--user", "vt_hn", *DECISION)
    assert outsider.exit_code == 2 and "[unknown_envelope]" in outsider.output
    part = run(app, "protection", "declassify", soon.number, "--user", "head_bnv", *DECISION,
               "--partial", "--scope", "Phụ lục 1")
    assert part.exit_code == 0, part.output
    assert envelope(soon.number).secrecy is Secrecy.PARTLY_DECLASSIFIED

    alone = run(app, "protection", "destroy", far.number, "--user", "vt_bnv", *DECISION,
                "--council", "Trần Văn An", "--record", "BB-01")
    assert alone.exit_code == 2 and "[destruction_needs_decision]" in alone.output
    gone = run(app, "protection", "destroy", far.number, "--user", "vt_bnv", *DECISION,
               "--council", "Trần Văn An; Lê Thị Bình; Phạm Văn Cường", "--record", "BB-01")
    assert gone.exit_code == 0, gone.output
    assert "BB-01" in gone.output
    assert envelope(far.number).status is EnvelopeStatus.DESTROYED
    after = run(app, "protection", "extend", far.number, "--user", "vt_bnv", *DECISION,
                "--until", "2080-01-01")
    assert after.exit_code == 2 and "[used_after_destruction]" in after.output

    rules = json.loads(run(app, "protection", "rules", "--json").output)
    assert {(r["effective_from"], r["classification"], r["years"]) for r in rules} >= {
        ("2019-01-01", "top_secret", 30), ("2026-03-01", "confidential", 10)}
    assert "117/2025" in run(app, "protection", "rules").output
