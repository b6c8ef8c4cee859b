"""The API's envelope lookup carries the document's protection term and its no-copy mark
(docs/domain.md §8), as registered; another unit still gets ``unknown_envelope``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kt1.models.enums import Classification
from kt1.services.context import Ctx
from tests.api.conftest import Scanner
from tests.conftest import Network
from tests.journey import register


def test_the_lookup_shows_the_term_and_the_no_copy_mark(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner]) -> None:
    env = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2026, 6, 1), protection_until=date(2030, 6, 1),
                   copy_forbidden=True)
    looked = scanner("BNV").get(f"/envelopes/{env.number}")
    assert looked.status_code == 200, looked.json
    assert looked.json["protection"] == {"classified_on": "2026-06-01", "until": "2030-06-01",
                                         "secrecy": "protected", "copy_forbidden": True}
    plain = register(ctx, network, classification=Classification.UNCLASSIFIED)
    shown = scanner("BNV").get(f"/envelopes/{plain.number}").json["protection"]
    assert shown["until"] is None and shown["copy_forbidden"] is False
    other = scanner("UBND-HN").get(f"/envelopes/{env.number}")
    assert other.status_code == 404 and "unknown_envelope" in str(other.json)
