"""Rule T2 (docs/rules.md): an incident reaches the head of the unit. Every incident goes to
the inbox of the heads of the units involved and of the sending unit's security officers
(kt1/services/incidents.py); one of them acknowledges it ("đã nắm") within
``KT1_INCIDENT_ACK_WORKING_DAYS`` working days. Judged by the verifier only: the limit passes
with time, not with an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kt1.services.rules.deadlines import OVERDUE, local
from kt1.services.rules.facts import Hit, World, hit

KIND_VI = {"seal_anomaly": "niêm phong bất thường", "discrepancy": "sai lệch",
           "loss": "mất", "damage": "hư hỏng"}


def acknowledged_in_time(env: Any, bags: Iterable[bytes], w: World, now: float
                         ) -> list[Hit] | None:
    """Rule T2: each incident on the envelope, or on a bag it was in (``bags``: the bags
    whose manifest lists it), is acknowledged by a recipient before its time runs out."""
    hits = [hit("incident_unacknowledged", OVERDUE, incident=p.id, kind=p.kind,
                kind_vi=KIND_VI.get(p.kind, p.kind), due=local(p.due))
            for p in w.unacknowledged_incidents(env.id, bags) if now > p.due]
    return hits or None
