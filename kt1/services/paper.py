"""Paper that exists: the sheets a paper receipt may name, as the custody rules see them
(docs/rules.md, rule A8), and the record of every sheet print.

One loader serves the write path (the one sheet a request names) and the verifier (every
sheet, once per run), so both judge a paper receipt against the same facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.models import HandoverLine, HandoverSheet, User
from kt1.models.handover import SheetStatus
from kt1.models.paper import InternalLine, InternalSheet, SheetKind, SheetPrint
from kt1.services.context import Ctx
from kt1.services.rules.facts import JSON_NULL, PaperSheet, number_wire
from kt1.services.tx import transactional


def paper_sheets(session: Session, numbers: Iterable[str] | None = None
                 ) -> dict[str, PaperSheet]:
    """The sheets by number (``numbers``: only those; None: every sheet), each with the
    envelopes it lists and, for an internal sheet, those whose line is ticked."""
    wanted = None if numbers is None else sorted({n for n in numbers if n})
    if wanted == []:
        return {}
    out: dict[str, PaperSheet] = {}

    post = select(HandoverSheet.id, HandoverSheet.number, HandoverSheet.unit_id,
                  HandoverSheet.post_office_id)
    post_lines = select(HandoverLine.sheet_id, HandoverLine.envelope_id).join(
        HandoverSheet, HandoverSheet.id == HandoverLine.sheet_id)
    if wanted is not None:
        post = post.where(HandoverSheet.number.in_(wanted))
        post_lines = post_lines.where(HandoverSheet.number.in_(wanted))
    listed: dict[int, set[bytes]] = defaultdict(set)
    for sheet_id, envelope_id in session.execute(post_lines):
        listed[sheet_id].add(number_wire(envelope_id))
    for sheet_id, number, unit_id, office_id in session.execute(post):
        out[number] = PaperSheet(
            internal=False, unit_id=number_wire(unit_id), office_id=number_wire(office_id),
            receiver_id=JSON_NULL, signed=False, listed=frozenset(listed[sheet_id]),
            ticked=frozenset())

    internal = select(InternalSheet.id, InternalSheet.number, InternalSheet.unit_id,
                      InternalSheet.receiver_id, InternalSheet.status)
    internal_lines = select(InternalLine.sheet_id, InternalLine.envelope_id,
                            InternalLine.ticked_at).join(
        InternalSheet, InternalSheet.id == InternalLine.sheet_id)
    if wanted is not None:
        internal = internal.where(InternalSheet.number.in_(wanted))
        internal_lines = internal_lines.where(InternalSheet.number.in_(wanted))
    on_sheet: dict[int, set[bytes]] = defaultdict(set)
    ticked: dict[int, set[bytes]] = defaultdict(set)
    for sheet_id, envelope_id, ticked_at in session.execute(internal_lines):
        on_sheet[sheet_id].add(number_wire(envelope_id))
        if ticked_at is not None:
            ticked[sheet_id].add(number_wire(envelope_id))
    for sheet_id, number, unit_id, receiver_id, status in session.execute(internal):
        out[number] = PaperSheet(
            internal=True, unit_id=number_wire(unit_id), office_id=JSON_NULL,
            receiver_id=number_wire(receiver_id), signed=str(status) == SheetStatus.SIGNED,
            listed=frozenset(on_sheet[sheet_id]), ticked=frozenset(ticked[sheet_id]))
    return out


def record_print(ctx: Ctx, actor: User, sheet: HandoverSheet | InternalSheet) -> SheetPrint:
    """Keep one print of ``sheet``: who, when, and the items its lines list now (the
    caller's transaction; the page that serves the PDF commits it)."""
    internal = isinstance(sheet, InternalSheet)
    items: list[Any] = [line.envelope.number for line in sheet.lines]
    row = SheetPrint(
        kind=SheetKind.INTERNAL if internal else SheetKind.POST_OFFICE,
        sheet_number=sheet.number,
        handover_sheet_id=None if internal else sheet.id,
        internal_sheet_id=sheet.id if internal else None,
        printed_by_id=actor.id, printed_at=ctx.now(), items=items)
    ctx.session.add(row)
    ctx.session.flush()
    return row


def prints_of(ctx: Ctx, number: str) -> list[SheetPrint]:
    """The prints of a sheet, oldest first."""
    return list(ctx.session.execute(
        select(SheetPrint).where(SheetPrint.sheet_number == number).order_by(SheetPrint.id)
    ).unique().scalars())


@transactional
def note_print(ctx: Ctx, actor: User, sheet: HandoverSheet | InternalSheet) -> SheetPrint:
    """:func:`record_print` in its own transaction (a page serving the sheet's PDF)."""
    return record_print(ctx, actor, sheet)
