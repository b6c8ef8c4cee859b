"""Issue 12's migration on a database that already holds envelopes, on both engines: the
copy and protection columns come and go without copying ``envelope``, every envelope keeps
its row and its hash, and the documents whose classification date is known (their document
date) get the term of the dated rule in force on it (docs/domain.md §8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import flask_migrate
from sqlalchemy import inspect, text

from kt1 import create_app
from kt1.extensions import db
from kt1.services.context import Ctx
from tests.conftest import base_config
from tests.test_migrations import DIRECTORY, empty_url  # noqa: F401  (the fixture)


def test_existing_documents_get_their_term_where_the_classification_date_is_known(
        empty_url: str, tmp_path: Path) -> None:  # noqa: F811
    from kt1.models import Envelope
    from kt1.models.enums import Classification, Role, UnitKind
    from kt1.services.context import Settings
    from kt1.services.directory import add_unit, add_user
    from kt1.services.registration import EnvelopeDraft, register_envelope

    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_url,
                      "AUTO_MIGRATE": False})
    with app.app_context():
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        for code in ("BNV", "UBND-HCM"):
            add_unit(ctx, None, code, code, UnitKind.AGENCY, "01", "Hà Nội")
        clerk, _ = add_user(ctx, None, "vt_bnv", "VT", Role.REGISTRY_CLERK, "BNV",
                            "correct-horse-9")
        drafts = [
            (Classification.CONFIDENTIAL, date(2024, 2, 29)),  # Mật, 10 years, leap day
            (Classification.TOP_SECRET, date(2026, 3, 2)),  # under Law 117/2025
            (Classification.SECRET, None),  # no document date: not known
            (Classification.UNCLASSIFIED, date(2025, 1, 1)),  # no term at all
            (Classification.SECRET, date(2018, 5, 1)),  # before any rule in the table
        ]
        numbers = [register_envelope(ctx, clerk, EnvelopeDraft(
            classification=c, recipient_unit_code="UBND-HCM", document_number=f"{i}/CV",
            document_date=d, drafter_name="Nguyễn Văn A", signer_name="Trần Văn B",
            signer_title="Chánh Văn phòng", classification_basis="Điều 1 khoản 2")).number
            for i, (c, d) in enumerate(drafts)]
        db.session.remove()

        def rows() -> list[tuple[str, str, object, object]]:
            db.session.rollback()
            found = [(str(n), str(h), c, u) for n, h, c, u in db.session.execute(text(
                "SELECT number, last_hash, classified_on, protection_until FROM envelope "
                "ORDER BY id"))]
            db.session.rollback()
            return found

        before = [(n, h) for n, h, _, _ in rows()]
        flask_migrate.downgrade(directory=DIRECTORY, revision="protection_copies@-1")
        db.engine.dispose()
        columns = {c["name"] for c in inspect(db.engine).get_columns("envelope")}
        assert {"copy_of_id", "protection_until", "secrecy"}.isdisjoint(columns)
        assert "protection_rule" not in inspect(db.engine).get_table_names()
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        db.engine.dispose()
        after = rows()
        assert [(n, h) for n, h, _, _ in after] == before
        db.session.expire_all()
        by_number = {e.number: e for e in db.session.query(Envelope).all()}
        terms = [(by_number[n].classified_on, by_number[n].protection_until) for n in numbers]
        assert terms == [
            (date(2024, 2, 29), date(2034, 2, 28)),
            (date(2026, 3, 2), date(2056, 3, 2)),
            (None, None),
            (None, None),
            (None, None),
        ]
        assert not any(e.copy_forbidden or e.copy_of_id for e in by_number.values())
        assert {str(e.secrecy) for e in by_number.values()} == {"protected"}
        db.session.remove()
        db.engine.dispose()
        del ctx
