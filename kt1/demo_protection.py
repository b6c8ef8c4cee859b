"""Demo data for protection terms and the end of a secret's life (docs/domain.md §8), built
through the real services at the end of ``kt1 demo``: a document whose shorter term ends
within the review horizon (on the "due for review" list of VPTU), one declassified by
UBND-HCM after its term was extended, and one destroyed by CA-HCM's council with a record.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kt1.models import User
from kt1.models.enums import Classification, ServiceClass
from kt1.services import protection
from kt1.services.context import Ctx
from kt1.services.registration import EnvelopeDraft, register_envelope
from kt1.services.subjects import local_date


def _document(ctx: Ctx, users: dict[str, User], unit: str, recipient: str, at: datetime,
              number: str, classification: Classification, classified_on: date,
              until: date | None = None) -> str:
    from kt1.demo import BASIS, CLERK, DRAFTER_NAME, SIGNER

    ctx.now = lambda: at
    secret = classification in (Classification.TOP_SECRET, Classification.SECRET)
    draft = EnvelopeDraft(
        classification=classification, recipient_unit_code=recipient,
        document_number=number, service=ServiceClass.STANDARD, document_date=classified_on,
        classified_on=classified_on, protection_until=until,
        drafter_name=DRAFTER_NAME.get(unit, "Nguyễn Văn Soạn") if secret else None,
        signer_name=SIGNER[unit][0] if secret else None,
        signer_title=SIGNER[unit][1] if secret else None,
        classification_basis=BASIS.get(unit) if secret else None,
        event_at=at)
    return register_envelope(ctx, users[CLERK[unit]], draft).number


def seed_protection(ctx: Ctx, users: dict[str, User], now: datetime) -> int:
    """Three documents at the end of their life; returns how many envelopes it added."""
    from kt1.demo import CLERK, HEAD

    today = local_date(now)
    # Due for review: classified in December of last year with a term the classifier
    # shortened to end about four months from today.
    _document(ctx, users, "VPTU", "UBND-HN", now - timedelta(hours=30), "45/BC-TU",
              Classification.CONFIDENTIAL, date(today.year - 1, 12, 10),
              until=protection.add_months(today, 4))

    # Extended, then declassified in full by UBND-HCM.
    at = now - timedelta(hours=28)
    declassified = _document(ctx, users, "UBND-HCM", "CA-HCM", at, "12/KH-UBND",
                             Classification.CONFIDENTIAL, date(2021, 5, 4))
    ctx.now = lambda: at + timedelta(minutes=30)
    protection.extend(ctx, users[HEAD["UBND-HCM"]], declassified,
                      decision_number="88/QĐ-UBND", decided_by="Bùi Văn Thắng",
                      decided_by_title="Chánh Văn phòng UBND thành phố",
                      decided_on=today - timedelta(days=2), new_until=date(2036, 5, 4))
    declassified_at = at + timedelta(hours=2)
    ctx.now = lambda: declassified_at
    protection.declassify(ctx, users[CLERK["UBND-HCM"]], declassified,
                          decision_number="102/QĐ-UBND", decided_by="Bùi Văn Thắng",
                          decided_by_title="Chánh Văn phòng UBND thành phố",
                          # yesterday, or the day it was recorded when built before 02:00
                          decided_on=min(today - timedelta(days=1), local_date(declassified_at)))

    # Destroyed by CA-HCM's council, with its record (biên bản tiêu hủy).
    at = now - timedelta(hours=26)
    destroyed = _document(ctx, users, "CA-HCM", "UBND-HCM", at, "7/BC-CAHCM",
                          Classification.SECRET, date(2020, 9, 15))
    ctx.now = lambda: at + timedelta(hours=3)
    destroyed_on = today - timedelta(days=1)
    protection.destroy(ctx, users[CLERK["CA-HCM"]], destroyed,
                       decision_number="215/QĐ-CAHCM", decided_by="Phan Văn Dũng",
                       decided_by_title="Phó Giám đốc Công an thành phố",
                       decided_on=today - timedelta(days=3),
                       council_members=["Phan Văn Dũng", "Cao Thị Yến", "Lý Thị Hạnh"],
                       record_number=f"BB-TH-03/{destroyed_on.year}", destroyed_on=destroyed_on)
    return 3
