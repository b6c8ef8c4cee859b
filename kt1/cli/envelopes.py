"""``kt1 envelope list|show``: what the server console sees (never the subject)."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import aliased

from kt1.cli.common import command, ctx, dump, iso, table
from kt1.models import Bag, Envelope, Handoff, Unit, User
from kt1.services.custody import load_envelope
from kt1.services.printing import print_history


@click.group("envelope")
def envelope_group() -> None:
    """Envelopes (bưu gửi KT1)."""


def summary(e: Envelope) -> dict[str, Any]:
    return {
        "number": e.number,
        "sender": e.sender_unit.code,
        "recipient": e.recipient_unit.code,
        "letter": e.mark,
        "classification": str(e.classification),
        "service": str(e.service),
        "urgency": str(e.urgency),
        "route": str(e.route),
        "status": str(e.status),
        "holder": e.holder_unit.code,
        "register_number": e.register_number,
    }


@envelope_group.command("list")
@click.option("--status", default=None, help="Only envelopes in this status.")
@click.option("--json", "as_json", is_flag=True)
@command
def envelope_list(status: str | None, as_json: bool) -> None:
    """List envelopes: number, sender, recipient, letter, service, status."""
    stmt = select(Envelope).order_by(Envelope.id)
    if status:
        stmt = stmt.where(Envelope.status == status)
    rows = [summary(e) for e in ctx().session.execute(stmt).unique().scalars()]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có bưu gửi nào. Chạy `kt1 demo` để có dữ liệu mẫu.")
    else:
        table([[r["number"], r["sender"], r["recipient"], r["letter"] or "-", r["service"],
                r["status"]] for r in rows],
              ["number", "sender", "recipient", "letter", "service", "status"])


def events(envelope: Envelope) -> list[dict[str, Any]]:
    """The custody timeline, in chain order, with unit codes and usernames resolved."""
    session = ctx().session
    fu, tu = aliased(Unit), aliased(Unit)
    fp, tp, ap = aliased(User), aliased(User), aliased(User)
    stmt = (
        select(Handoff, fu.code, fp.username, tu.code, tp.username, ap.username, Bag.number)
        .outerjoin(fu, Handoff.from_unit_id == fu.id)
        .outerjoin(fp, Handoff.from_user_id == fp.id)
        .join(tu, Handoff.to_unit_id == tu.id)
        .outerjoin(tp, Handoff.to_user_id == tp.id)
        .outerjoin(ap, Handoff.ack_user_id == ap.id)
        .outerjoin(Bag, Handoff.bag_id == Bag.id)
        .where(Handoff.envelope_id == envelope.id)
        .order_by(Handoff.seq)
    )
    out = []
    for h, from_unit, from_user, to_unit, to_user, ack_user, bag in session.execute(stmt):
        out.append({
            "seq": h.seq,
            "kind": str(h.kind),
            "event_at": iso(h.event_at),
            "recorded_at": iso(h.recorded_at),
            "from": {"unit": from_unit, "user": from_user} if from_unit else None,
            "to": {"unit": to_unit, "user": to_user},
            "location": h.location,
            "bag": bag,
            "seal_state": str(h.seal_state),
            "seal_number": h.seal_number,
            "count": h.count,
            "acknowledged_by": ack_user,
            "ack_method": str(h.ack_method) if h.ack_method else None,
            "device": h.device,
            "reason": str(h.reason) if h.reason else None,
            "authority": str(h.authority) if h.authority else None,
            "note": h.note,
            "scan_id": h.scan_id,
            "prev_hash": h.prev_hash,
            "hash": h.hash,
        })
    return out


@envelope_group.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@command
def envelope_show(number: str, as_json: bool) -> None:
    """Show an envelope and its custody timeline (events, in order)."""
    envelope = load_envelope(ctx(), number)
    data = {
        **summary(envelope),
        "layers": envelope.layers,
        "agreed_at": iso(envelope.agreed_at),
        "recipient_name": envelope.recipient_name,
        "is_addressee_only": envelope.is_addressee_only,
        "document_number": envelope.document_number,
        "copies": envelope.copies,
        "recall_by": envelope.recall_by.isoformat() if envelope.recall_by else None,
        "registered_at": iso(envelope.registered_at),
        "accepted_at": iso(envelope.accepted_at),
        "incoming_number": (f"{envelope.incoming_year}/{envelope.incoming_seq:06d}"
                            if envelope.incoming_seq else None),
        "has_subject": envelope.has_subject,
        "events": events(envelope),
        "prints": print_history(ctx(), envelope),
    }
    if as_json:
        dump(data)
        return
    click.echo(f"Bưu gửi {data['number']}  chữ {data['letter'] or '-'}  "
               f"{data['service']}  {data['route']}  trạng thái: {data['status']}")
    click.echo(f"Gửi: {data['sender']}  ->  Nhận: {data['recipient']}"
               f"{'  (chỉ người có tên mới được bóc bì)' if data['is_addressee_only'] else ''}")
    click.echo(f"Số đăng ký đi: {data['register_number']}  Số, ký hiệu: "
               f"{data['document_number']}")
    rows = []
    for ev in data["events"]:
        giver = f"{ev['from']['user']}@{ev['from']['unit']}" if ev["from"] else "-"
        taker = f"{ev['to']['user']}@{ev['to']['unit']}"
        rows.append([ev["seq"], ev["event_at"][:19], ev["kind"], giver, taker,
                     ev["bag"] or "", ev["seal_state"], ev["acknowledged_by"] or "",
                     ev["hash"][:12]])
    table(rows, ["#", "event_at (UTC)", "kind", "from", "to", "bag", "seal", "signed", "hash"])
    if data["prints"]:
        click.echo("")
        click.echo("In nhãn / biên nhận:")
        for p in data["prints"]:
            why = f"  lý do in lại: {p['reprint_reason']}" if p.get("reprint_reason") else ""
            click.echo(f"  {p['at'][:19]}  {p['event']}  {p.get('user') or '-'}  "
                       f"{p.get('printer') or '-'}  {p.get('state')}{why}")
