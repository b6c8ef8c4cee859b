"""Rules on the envelope as registered (docs/rules.md, rules 1, 2 and 14).

Registration derives the letter and the layers from the classification and stores a
subject only as the rule in force allows, so the write path cannot break these: they are
judged by the verifier, on the stored record, to catch a record changed afterwards.
"""

from __future__ import annotations

from typing import Any

from kt1.models.enums import Classification
from kt1.services.rules.facts import WIRE_NULL, Hit, hit, text

MARKS = {c.value.encode(): (c.mark.encode() if c.mark else WIRE_NULL) for c in Classification}
LAYERS = {c.value.encode(): str(c.layers).encode() for c in Classification}
POLICY_VI = {"forbidden": "không được ghi trích yếu",
             "approval_required": "phải có người xác định độ mật phê duyệt"}


def letter_matches(env: Any) -> Hit | None:
    """Rule 1 (verify only): the outer letter A/B/C follows the classification."""
    expected = MARKS.get(env.classification, b"?")
    if env.mark != expected:
        return hit("mark_mismatch", mark=text(env.mark), expected=text(expected))
    return None


def layers_match(env: Any) -> Hit | None:
    """Rule 2 (verify only): Tuyệt mật travels in two envelopes, the others in one."""
    expected = LAYERS.get(env.classification, b"?")
    if env.layers != expected:
        return hit("layers_mismatch", layers=text(env.layers), expected=text(expected))
    return None


def subject_allowed(env: Any, policy: str) -> Hit | None:
    """Rule 14 (verify only; registration refuses it first): a subject is stored only as
    ``policy``, the dated rule in force on the registration day, allows."""
    if env.has_subject != b"true":
        return None
    if policy == "forbidden" or (policy == "approval_required"
                                 and env.subject_approved_by in (WIRE_NULL, b"")):
        return hit("subject_recorded_against_rule", classification=text(env.classification),
                   policy=policy, policy_vi=POLICY_VI.get(policy, policy))
    return None
