"""Demo data for copies (sao, chụp; issue 12 item 1), called at the end of ``kt1 demo``.

The Văn phòng Thành ủy names its Chánh Văn phòng as the person entitled to allow copies
(``copy_approver``), registers a Tối mật plan for UBND TP Hồ Chí Minh and, with his approval,
two photocopies of it ("Bản số 1/2", "Bản số 2/2"); the first copy is in transit: accepted
at the counter, bagged, sealed and dispatched. The second waits in the registry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kt1.models import User
from kt1.models.enums import Classification, CopyMethod
from kt1.services.context import Ctx
from kt1.services.copies import add_approver, make_copies
from kt1.services.registration import EnvelopeDraft, register_envelope

SENDER, RECIPIENT = "VPTU", "UBND-HCM"
APPROVER = "lanhdao.vptu"
CLERK = "vanthu.vptu"


def seed_copies(ctx: Ctx, users: dict[str, User], now: datetime) -> int:
    """The approver, the original and its two copies; returns the envelopes made."""
    from kt1.demo import BASIS, DRAFTER_NAME, SIGNER, Journey

    start = now - timedelta(hours=6)
    ctx.now = lambda: start
    add_approver(ctx, None, SENDER, APPROVER)
    original = register_envelope(ctx, users[CLERK], EnvelopeDraft(
        classification=Classification.SECRET, recipient_unit_code=RECIPIENT,
        document_number="214/KH-TU", document_date=start.date(),
        drafter_name=DRAFTER_NAME[SENDER], signer_name=SIGNER[SENDER][0],
        signer_title=SIGNER[SENDER][1], classification_basis=BASIS[SENDER]))
    later = start + timedelta(minutes=30)
    ctx.now = lambda: later
    made = make_copies(ctx, users[CLERK], original.number, approved_by=APPROVER, count=2,
                       method=CopyMethod.PHOTOCOPY)
    journey = Journey(ctx, users, later + timedelta(minutes=5))
    journey.run([made[0].number], SENDER, RECIPIENT, "dispatched")
    return 1 + len(made)
