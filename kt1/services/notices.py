"""Incident notices by email (docs/rules.md, rule T2), when ``KT1_SMTP_URL`` is set.

Every incident is in the inbox of its recipients (:mod:`kt1.services.incidents`); with an
SMTP server on the isolated LAN, those of them with an email address are also sent a short
notice in Vietnamese: the incident's number and kind, the envelope or bag number, the unit
that reported it and the link to its page. Never the report text nor the subject (trích
yếu): the page holds them, behind sign-in.

Incidents are opened by several use cases (custody, bagging, handover sheets, reports); a
session hook collects the incidents each transaction writes and sends their notices once it
has committed. Without SMTP nothing is sent and nothing fails; a failure to send is logged
without content and never undoes the incident.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kt1.models import Bag, Envelope, Incident, Unit
from kt1.services.context import SESSION_SETTINGS, Ctx, Settings
from kt1.services.deadlines import epoch_of
from kt1.services.rules.deadlines import local
from kt1.services.rules.incidents import KIND_VI

log = logging.getLogger(__name__)
#: session.info key: the ids of incidents written in the open transaction
PENDING = "kt1.new_incidents"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Notice:
    """One email: to whom, its subject line and body."""

    to: str
    subject: str
    body: str


def _collect(session: Session, _flush_context: Any) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, Incident)]
    if new:
        session.info.setdefault(PENDING, []).extend(new)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING, None)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING, None)
    settings = session.info.get(SESSION_SETTINGS)
    if not ids or not isinstance(settings, Settings) or not settings.smtp_url:
        return  # the inbox alone
    try:
        # The committed session may not run SQL any more: read with a session of its own.
        with Session(bind=session.get_bind()) as reader:
            notices = compose(Ctx(session=reader, settings=settings), ids)
        send(settings, notices)
    except Exception as exc:  # never fail the incident's use case; no content in the log
        log.warning("incident notice not sent (incidents %s): %s", ids, type(exc).__name__)


def install() -> None:
    """Hook the notices into every session (idempotent)."""
    for name, fn in (("after_flush", _collect), ("after_rollback", _forget),
                     ("after_commit", _after_commit)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def compose(ctx: Ctx, incident_ids: list[int]) -> list[Notice]:
    """The emails for these incidents: one per recipient with an address."""
    from kt1.services.incidents import incident_units, recipients

    out: list[Notice] = []
    for incident_id in sorted(set(incident_ids)):
        incident = ctx.session.get(Incident, incident_id)
        if incident is None:
            continue
        unit = ctx.session.get(Unit, incident.unit_id)
        number = (ctx.session.execute(select(Envelope.number).where(
            Envelope.id == incident.envelope_id)).scalar_one_or_none()
            if incident.envelope_id else None)
        bag = (ctx.session.execute(select(Bag.number).where(
            Bag.id == incident.bag_id)).scalar_one_or_none() if incident.bag_id else None)
        people = recipients(ctx, incident)
        if (incident.details or {}).get("notify_sender") is False:
            units = incident_units(ctx, incident)
            own = units.involved - units.sending
            people = [u for u in people if u.unit_id in own]
        kind = str(incident.kind)
        subject = f"[KT1 Track] Sự cố số {incident.id}: {KIND_VI.get(kind, kind)}"
        lines = [
            f"Sự cố số {incident.id} ({KIND_VI.get(kind, kind)}) do đơn vị "
            f"{unit.code if unit else '?'} – {unit.name if unit else '?'} báo lúc "
            f"{local(epoch_of(incident.opened_at))}.",
        ]
        if number:
            lines.append(f"Bưu gửi: {number}")
        if bag:
            lines.append(f"Túi thư: {bag}")
        lines += [
            "",
            "Xin mở trang sự cố để xem biên bản và xác nhận đã nắm:",
            f"{ctx.settings.public_url}/incidents/{incident.id}",
            "",
            "Thư này không chứa nội dung biên bản.",
        ]
        body = "\n".join(lines) + "\n"
        out += [Notice(to=u.email, subject=subject, body=body) for u in people if u.email]
    return out


def send(settings: Settings, notices: list[Notice]) -> None:
    """Send ``notices`` through the configured SMTP server, over one connection."""
    if not notices or not settings.smtp_url:
        return
    url = urlsplit(settings.smtp_url)
    secure = url.scheme == "smtps"
    host, port = url.hostname or "localhost", url.port or (465 if secure else 25)
    user = unquote(url.username) if url.username else settings.smtp_user
    password = unquote(url.password) if url.password else settings.smtp_password
    client: smtplib.SMTP = (smtplib.SMTP_SSL if secure else smtplib.SMTP)(
        host, port, timeout=TIMEOUT_SECONDS)
    try:
        client.ehlo()
        if not secure and client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        if user:
            client.login(user, password or "")
        for notice in notices:
            message = EmailMessage()
            message["From"] = settings.smtp_from
            message["To"] = notice.to
            message["Subject"] = notice.subject
            message.set_content(notice.body)
            client.send_message(message)
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()
