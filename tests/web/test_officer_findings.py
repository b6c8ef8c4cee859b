"""On the officer's envelope page a finding reads as words (vi/en) with its code in small
print, a handoff's ``vehicle=…; escort=…`` note as labelled words, the incidents of the
bags it travelled in are listed, and an incident can be opened from a seal anomaly (CSRF,
same refusals as everywhere)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from kt1.models import Incident, Scan
from kt1.models.enums import IncidentKind
from kt1.services.context import Ctx
from tests.conftest import Clock, Network
from tests.services.test_verify import _broken_seal
from tests.web.test_officer import page


def unreported(ctx: Ctx, network: Network, clock: Clock) -> str:
    """A bag received with a broken seal whose incident report was then deleted."""
    env, incident = _broken_seal(ctx, network, clock)
    ctx.session.execute(update(Scan).where(Scan.incident_id == incident.id)
                        .values(incident_id=None))
    ctx.session.execute(delete(Incident).where(Incident.id == incident.id))
    ctx.session.commit()
    return env.number


def count(ctx: Ctx) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count(Incident.id))).scalar_one())


def test_findings_read_as_words_with_the_code_in_small_print(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    env, _incident = _broken_seal(ctx, network, clock)
    b = signed_in("bm_bnv")
    body = page(b.get(f"/officer/envelopes/{env.number}"))
    assert "Niêm phong bất thường" in body
    assert '<small class="code-small"><code>seal_anomaly</code></small>' in body
    assert body.index("Niêm phong bất thường") < body.index("<code>seal_anomaly</code>")
    assert "vehicle=" not in body
    assert '<span class="note-label">Phương tiện</span>: 29A-12345' in body
    assert "Không có sự cố nào." not in body  # the bag's seal incident is listed
    assert "Niêm phong bất thường" in body.split("Chuỗi giao nhận")[0]

    b.post("/language", {"lang": "en", "next": "/"})
    english = page(b.get(f"/officer/envelopes/{env.number}"))
    assert "Seal anomaly (broken) at handoff" in english
    assert '<span class="note-label">Vehicle</span>: 29A-12345' in english


def test_an_officer_party_to_the_handover_opens_an_incident_from_a_seal_anomaly(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    number = unreported(ctx, network, clock)
    officer = network["bm_hcm"]
    officer.unit_id = network["gd_hcm"].unit_id  # an officer of the receiving post office
    ctx.session.commit()
    b = signed_in("bm_hcm")
    body = page(b.get(f"/officer/envelopes/{number}"))
    assert "seal_anomaly_unreported" in body and "Mở sự cố" in body
    assert 'name="csrf_token"' in body.split("incident-from-finding")[1]
    before = count(ctx)
    assert b.post(f"/officer/envelopes/{number}/incidents",
                  {"finding": "seal_anomaly_unreported", "report": "Dây bị đứt"},
                  csrf=False).status_code in (303, 400)
    assert count(ctx) == before  # no token, nothing written
    done = b.post(f"/officer/envelopes/{number}/incidents",
                  {"finding": "seal_anomaly_unreported", "report": "Dây niêm phong bị đứt"})
    assert done.status_code == 303
    assert count(ctx) == before + 1
    made = ctx.session.execute(select(Incident).order_by(Incident.id.desc())).scalars().first()
    assert made is not None and made.kind is IncidentKind.SEAL_ANOMALY
    assert made.report == "Dây niêm phong bị đứt" and made.reported_by_id == officer.id
    after = page(b.get(f"/officer/envelopes/{number}"))
    assert "Đã mở sự cố số" in after and "Không có sự cố nào." not in after


def test_opening_an_incident_is_refused_to_a_non_party_and_hidden_from_another_unit(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    number = unreported(ctx, network, clock)
    before = count(ctx)
    b = signed_in("bm_bnv")  # the sender's officer: not a party to the next handover
    b.get(f"/officer/envelopes/{number}")
    refused = b.post(f"/officer/envelopes/{number}/incidents",
                     {"finding": "seal_anomaly_unreported", "report": "Dây bị đứt"})
    assert refused.status_code == 303
    assert 'class="flash error"' in page(b.get(f"/officer/envelopes/{number}"))
    assert count(ctx) == before
    empty = b.post(f"/officer/envelopes/{number}/incidents",
                   {"finding": "seal_anomaly_unreported", "report": ""})
    assert empty.status_code == 303 and count(ctx) == before
    hn = signed_in("bm_hn")
    hn.get("/officer/")
    other = hn.post(f"/officer/envelopes/{number}/incidents",
                                    {"finding": "seal_anomaly_unreported", "report": "x"})
    assert other.status_code == 404 and count(ctx) == before
    clerk = signed_in("vt_bnv")
    clerk.get("/")
    assert clerk.post(f"/officer/envelopes/{number}/incidents",
                                    {"finding": "seal_anomaly", "report": "x"}
                                    ).status_code in (403, 404)
    assert count(ctx) == before
