"""Rule 7, seals (docs/rules.md): a broken or mismatched seal is recorded as such and
becomes an incident with a written report. The incident goes to the inbox of the heads and
of the sender (kt1/services/incidents.py); whether they acknowledge it in time is judged by
kt1/services/rules/incidents.py (rule T2)."""

from __future__ import annotations

from typing import Any

from kt1.services.rules.book import link_rule
from kt1.services.rules.facts import ChainState, Hit, World, hit, text

SEAL_OK = frozenset({b"intact", b"not_applicable"})
SEAL_STATE_VI = {"broken": "có dấu hiệu bóc mở", "mismatched": "số niêm phong không khớp"}


@link_rule("7")
def seal_anomaly_reported(st: ChainState, ln: Any, env: Any, w: World) -> list[Hit] | None:
    """A seal anomaly is a finding of its own, whatever was done about it (a fact, not a
    refusal: the write path accepts the handoff, the envelope must move on, and the record
    shows it for ever); it has its incident, with a report (the write path refuses an anomaly
    without a report: ``report_required``)."""
    if ln.seal_state in SEAL_OK:
        return None
    state = text(ln.seal_state)
    hits = [hit("seal_anomaly", state=state, state_vi=SEAL_STATE_VI.get(state, state))]
    inc = w.seal_report(env.id, ln.bag_id, ln.id)
    if inc is None:
        hits.append(hit("seal_anomaly_unreported"))
        return hits
    if not inc.report.strip():
        hits.append(hit("seal_incident_without_report", incident=inc.id))
    return hits
