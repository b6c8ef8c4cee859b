"""Rule 8, bags (docs/rules.md): sealed for the whole trip, the manifest agrees, a Tuyệt
mật bag carries a tracker, a bag in a non-dedicated vehicle has an escort.

The bag's own facts (tracker, vehicle, escort) are not in the hashed chain: the verifier
asks :class:`~kt1.services.rules.facts.World` about the bag, the write path checks the bag
it is about to seal or dispatch with :func:`tracker_required` and :func:`escort_required`.
"""

from __future__ import annotations

from typing import Any

from kt1.models.enums import EventKind
from kt1.services.rules.book import VERIFY_ONLY, link_rule
from kt1.services.rules.custody import (
    K_BAG_OPENED,
    K_BAG_RECEIVED,
    K_BAG_SEALED,
    K_BAGGED,
    K_DISPATCHED,
)
from kt1.services.rules.facts import JSON_NULL, ChainState, Hit, World, hit, text

SEAL_CARRIERS = frozenset({K_DISPATCHED, K_BAG_RECEIVED, K_BAG_OPENED})
ANOMALY = frozenset({b"broken", b"mismatched"})
_BAG_KINDS = frozenset({EventKind.BAGGED, EventKind.BAG_SEALED, EventKind.DISPATCHED,
                        EventKind.BAG_RECEIVED, EventKind.BAG_OPENED})


@link_rule("8", kinds=_BAG_KINDS)
def seal_number_kept(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """The seal number read at dispatch, receipt and opening is the one recorded at sealing
    (a reader who finds another records a ``mismatched`` seal instead: rule 7)."""
    if (st.in_bag is not None and ln.kind in SEAL_CARRIERS
            and ln.seal_state not in ANOMALY and ln.seal_number != st.bag_seal):
        return hit("seal_number_changed")
    return None


@link_rule("8", kinds=frozenset({EventKind.BAGGED, EventKind.BAG_OPENED}),
           judged_by=VERIFY_ONLY)
def manifest_agrees(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """The bag's manifest lists the envelope when it is bagged and shows it found when the
    bag is opened (the write path writes the manifest line in the same step)."""
    lines = w.manifest_lines(env.id)
    if ln.kind == K_BAGGED:
        if st.in_bag is None and ln.bag_id != JSON_NULL and ln.bag_id not in lines:
            return hit("manifest_mismatch", detail_vi="bưu gửi không có trong bảng kê của túi",
                       detail_en="the envelope is not on the bag's manifest")
    elif st.in_bag is not None and lines.get(st.in_bag) != b"true":
        return hit("manifest_mismatch", detail_vi="bảng kê không ghi nhận bưu gửi khi mở túi",
                   detail_en="the manifest does not show the envelope found at opening")
    return None


@link_rule("8", kinds=frozenset({EventKind.BAGGED}), judged_by=VERIFY_ONLY)
def bagged_while_open(st: ChainState, ln: Any, env: Any, w: World) -> Hit | None:
    """Only an open bag takes envelopes: a ``bagged`` link written after its bag's sealing
    is out of order (the write path refuses it with ``bag_state_invalid``)."""
    if ln.bag_id != JSON_NULL and w.bagged_after_sealing(ln.id):
        return hit("event_out_of_order", kind=text(ln.kind), status="bag_sealed")
    return None


@link_rule("8", kinds=frozenset({EventKind.BAG_SEALED, EventKind.DISPATCHED}),
           judged_by=VERIFY_ONLY)
def bag_equipped(st: ChainState, ln: Any, env: Any, w: World) -> list[Hit] | None:
    """A bag holding a Tuyệt mật envelope has a tracker from its sealing on (a bag being
    made up has none yet; the write path refuses to seal it: ``tracker_required``); a bag
    dispatched in a non-dedicated vehicle has an escort (``escort_required``)."""
    bag = ln.bag_id
    if bag == JSON_NULL:
        return None
    hits = []
    if (ln.kind == K_BAG_SEALED and env.classification == b"top_secret"
            and w.bag_lacks_tracker(bag)):
        hits.append(hit("bag_tracker_missing"))
    if ln.kind == K_DISPATCHED and w.bag_lacks_escort(bag):
        hits.append(hit("bag_escort_missing"))
    return hits or None


def tracker_required(has_top_secret: bool, tracker_id: str | None) -> bool:
    """Is the bag missing the tracker rule 8 asks for (write path, at sealing)?"""
    return has_top_secret and not (tracker_id or "").strip()


def escort_required(dedicated_vehicle: bool, escort_name: str | None) -> bool:
    """Is the bag missing the escort rule 8 asks for (write path, at dispatch)?"""
    return not dedicated_vehicle and not (escort_name or "").strip()


def left_in_bag(st: ChainState, lines: dict[bytes, bytes]) -> Hit | None:
    """At the end of the chain: the envelope's bag was opened and it was not found."""
    if st.in_bag is not None and lines.get(st.in_bag) == b"false":
        return hit("manifest_mismatch", detail_vi="bưu gửi thiếu khi mở túi",
                   detail_en="the envelope was missing when the bag was opened")
    return None
