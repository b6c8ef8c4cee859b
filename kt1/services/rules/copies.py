"""Rules P1 to P3 (docs/rules.md): a copy (bản sao: sao, chụp; docs/domain.md §8) is made
with the approval of a person entitled to allow it, numbered "Bản số n/N" without gaps per
original, and names an original that exists. The write path (kt1/services/copies.py) refuses
each first; the verifier judges the stored record, whose copy facts are sealed into the
copy's first link (an edit is also rule 15's ``chain_hash_mismatch``).
"""

from __future__ import annotations

from typing import Any

from kt1.services.rules.facts import JSON_NULL, WIRE_NULL, Hit, World, hit, text


def is_copy(env: Any) -> bool:
    return bool(env.copy_of_id != JSON_NULL)


def approved(env: Any, w: World) -> Hit | None:
    """Rule P1: a copy records who approved it and when, a person entitled to allow copies
    in the unit that made it (listed for the unit, or a head of it)."""
    if not is_copy(env):
        return None
    if env.copy_approved_by_id == JSON_NULL or env.copy_approved_on == WIRE_NULL:
        return hit("copy_unapproved", approver=w.full_name(env.copy_approved_by_id) or "-",
                   approved_on=text(env.copy_approved_on), why="missing",
                   why_vi="thiếu người phê duyệt hoặc ngày phê duyệt")
    if not w.may_allow_copies(env.sender_unit_id, env.copy_approved_by_id):
        return hit("copy_unapproved", approver=w.full_name(env.copy_approved_by_id) or "?",
                   approved_on=text(env.copy_approved_on), why="not entitled",
                   why_vi="người phê duyệt không có thẩm quyền cho phép sao, chụp")
    return None


def numbered_in_sequence(env: Any, w: World) -> Hit | None:
    """Rule P2: the copies of one original are numbered 1, 2, … without a gap or a
    repeat, and "Bản số n/N" has n ≤ N."""
    if not is_copy(env):
        return None
    if env.copy_no == JSON_NULL:
        return hit("copy_number_out_of_sequence", no="-", total=text(env.copy_total),
                   why="no number", why_vi="không có số bản")
    no = int(env.copy_no)
    total = int(env.copy_total) if env.copy_total != JSON_NULL else 0
    if no < 1 or no > total:
        return hit("copy_number_out_of_sequence", no=no, total=text(env.copy_total),
                   why=f"{no} is not within 1..{text(env.copy_total)}",
                   why_vi=f"số {no} không nằm trong 1..{text(env.copy_total)}")
    numbers = w.copy_numbers(env.copy_of_id)
    if numbers.count(no) > 1:
        return hit("copy_number_out_of_sequence", no=no, total=total,
                   why=f"{no} is given to {numbers.count(no)} copies",
                   why_vi=f"số {no} được ghi cho {numbers.count(no)} bản")
    present = set(numbers)
    missing = [k for k in range(1, no) if k not in present]
    if missing:
        shown = ", ".join(str(k) for k in missing[:5])
        return hit("copy_number_out_of_sequence", no=no, total=total,
                   why=f"copy no. {shown} is missing", why_vi=f"thiếu bản số {shown}")
    return None


def original_known(env: Any, w: World) -> Hit | None:
    """Rule P3: a copy names an original that exists."""
    if is_copy(env) and not w.envelope_exists(env.copy_of_id):
        return hit("copy_original_unknown", original=text(env.copy_of_id))
    return None
