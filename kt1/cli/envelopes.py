"""``kt1 envelope list|show``: what the server console sees (never the subject)."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import aliased

from kt1.cli.common import command, ctx, dump, iso, table
from kt1.models import Bag, Envelope, Handoff, Unit, User
from kt1.services.chain import API_FIELDS, HANDOFF_FIELDS, HandoffField, put_shown
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


#: A link's fields on the console: those the API shows (in its order), then the others;
#: not the row id, nor the envelope (shown above its timeline). From chain.HANDOFF_FIELDS.
_TIMELINE = tuple(f for f in (*API_FIELDS, *(f for f in HANDOFF_FIELDS if f.api is None))
                  if f.name != "id" and f.ref != "envelope")
#: What an id with a ``ref`` is shown as, and the console's names of the API's parties.
_REFS: dict[str, Any] = {"unit": Unit.code, "user": User.username, "bag": Bag.number}
_PARTIES = {"giver": "from", "receiver": "to"}


def _key(f: HandoffField) -> tuple[str, str]:
    """The field's key in a timeline entry, and its member key in a party (or "")."""
    if f.api is None:
        return (f.name.removesuffix("_id") if f.ref else f.name), ""
    key, _, member = f.api.partition(".")
    return _PARTIES.get(key, key), member


def _shown(f: HandoffField, value: Any) -> Any:
    if value is None or f.ref is not None:
        return value
    if f.form == "time":
        return iso(value)
    return str(value) if f.form == "enum" else value


def events(envelope: Envelope) -> list[dict[str, Any]]:
    """The custody timeline, in chain order, with unit codes and usernames resolved."""
    session = ctx().session
    stmt = select(*(getattr(Handoff, f.name) for f in _TIMELINE))
    for f in _TIMELINE:
        if f.ref is not None:
            label = _REFS[f.ref]
            target = aliased(label.class_)
            stmt = stmt.add_columns(getattr(target, label.key)).outerjoin(
                target, getattr(Handoff, f.name) == target.id)
    stmt = stmt.where(Handoff.envelope_id == envelope.id).order_by(Handoff.seq)
    out = []
    n = len(_TIMELINE)
    for row in session.execute(stmt):
        labels = iter(row[n:])
        entry: dict[str, Any] = {}
        for f, value in zip(_TIMELINE, row[:n], strict=True):
            shown = _shown(f, next(labels) if f.ref is not None else value)
            key, member = _key(f)
            put_shown(entry, key, member, value, shown)
        out.append(entry)
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
        # who drafted and signed it, why it is secret (docs/domain.md §8)
        "drafter": None if envelope.drafter_name is None else {
            "name": envelope.drafter_name,
            "user": envelope.drafter_user.username if envelope.drafter_user else None},
        "signer": None if envelope.signer_name is None else {
            "name": envelope.signer_name, "title": envelope.signer_title},
        "classification_basis": envelope.classification_basis,
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
    drafter, signer = data["drafter"], data["signer"]
    click.echo("Người soạn thảo: " + (drafter["name"] + (f" ({drafter['user']})"
                                                        if drafter["user"] else "")
                                      if drafter else "-"))
    click.echo("Người ký: " + (signer["name"] + (f", {signer['title']}" if signer["title"]
                                                 else "") if signer else "-"))
    click.echo(f"Căn cứ xác định độ mật: {data['classification_basis'] or '-'}")
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
