"""Paper receipts bound to paper that exists (docs/rules.md, rule A8; docs/access.md, "both
sides present").

A receipt signed on paper (``ack_method`` ``paper``) names the sheet it was signed on. At an
acceptance it is the post-office handover sheet (bảng kê giao) that the giver's unit made for
the receiving office and that lists the envelope. At any other handoff it is an internal
handover sheet (phiếu chuyển giao nội bộ) of the receiving unit, for the receipt's signer,
marked signed by that unit, whose line for this envelope is ticked. A free-text reference
binds to nothing. A sheet of another unit is answered as a number that does not exist
(``why`` "unknown").
"""

from __future__ import annotations

from typing import Any

from kt1.models.enums import AckMethod, EventKind
from kt1.services.rules.book import link_rule
from kt1.services.rules.facts import ChainState, Hit, World, hit

PAPER = AckMethod.PAPER.value.encode()
K_ACCEPTED_PAPER = EventKind.ACCEPTED.value.encode()


@link_rule("A8")
def paper_receipt_bound(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Rule A7: a paper receipt names a sheet this system printed that covers the handoff."""
    if ln.ack_method != PAPER:
        return None
    paper_sheet = w.paper_sheet(ln.ack_reference)
    if paper_sheet is None:
        return hit("paper_receipt_unbound", why="unknown")
    if ln.kind == K_ACCEPTED_PAPER:
        if paper_sheet.internal or paper_sheet.unit_id != ln.from_unit_id or (
                paper_sheet.office_id != ln.to_unit_id):
            return hit("paper_receipt_unbound", why="unknown")
        if env.id not in paper_sheet.listed:
            return hit("paper_receipt_unbound", why="not_listed")
        return None
    if paper_sheet.unit_id != ln.to_unit_id:
        return hit("paper_receipt_unbound", why="unknown")
    if not paper_sheet.internal:
        return hit("paper_receipt_unbound", why="post_office_sheet")
    if paper_sheet.receiver_id != ln.ack_user_id:
        return hit("paper_receipt_unbound", why="other_receiver")
    if not paper_sheet.signed:
        return hit("paper_receipt_unbound", why="unsigned")
    if env.id not in paper_sheet.listed:
        return hit("paper_receipt_unbound", why="not_listed")
    if env.id not in paper_sheet.ticked:
        return hit("paper_receipt_unbound", why="not_ticked")
    return None
