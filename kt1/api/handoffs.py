"""``POST /api/v1/handoffs`` (one scan) and ``/handoffs/batch`` (offline sync, up to 500)."""

from __future__ import annotations

import logging
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError as SchemaError
from sqlalchemy.orm import Session

from kt1 import metrics
from kt1.api import error_body
from kt1.api.auth import device, operator, require_device
from kt1.api.schemas import BatchIn, BatchOut, ErrorOut, HandoffIn, HandoffResultOut
from kt1.api.serialize import recorded_out
from kt1.database import service_context
from kt1.errors import (
    AlreadyReceivedError,
    DatabaseUnavailableError,
    DependsOnRefusedError,
    EventOrderError,
    InternalError,
    KT1Error,
    NotAttemptedError,
    NotCurrentHolderError,
    ValidationError,
)
from kt1.models import User
from kt1.models.enums import AckMethod, Authority, DeliveryFailure, EventKind, SealState
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.custody import HandoffRequest, Recorded, already_recorded, record_handoff
from kt1.services.directory import find_user
from kt1.services.tx import failure_summary, is_database_unavailable, rollback_quietly

log = logging.getLogger(__name__)
blp = Blueprint("handoffs", __name__, description="Record custody handoffs")
blp.before_request(require_device)

MAX_BATCH = 500


class BatchTooLargeError(KT1Error):
    slug = "batch_too_large"
    status = 422
    message_vi = "Một lô tối đa 500 lượt quét."
    message_en = "A batch holds at most 500 scans."


def receipt_from(ctx: Ctx, data: dict[str, Any] | None, receiver: str | None) -> Receipt | None:
    if not data:
        return None
    username = data.get("username") or receiver
    if not username:
        raise ValidationError(field="receipt.username", reason="required")
    return Receipt(user=find_user(ctx, username), method=AckMethod(data["method"]),
                   secret=data.get("secret"), reference=data.get("reference"))


def _user(ctx: Ctx, username: str | None) -> User | None:
    return find_user(ctx, username) if username else None


def record(data: dict[str, Any]) -> Recorded:
    """Record one validated scan and count it (``kt1_scans`` by event kind and outcome)."""
    kind = EventKind(data["kind"]).value
    try:
        rec = _record(data)
    except KT1Error:
        metrics.count_scan(kind, "refused")
        raise
    except Exception:
        metrics.count_scan(kind, "failed")
        raise
    metrics.count_scan(kind, "replayed" if rec.replayed else "recorded")
    return rec


def _record(data: dict[str, Any]) -> Recorded:
    """Turn one validated scan into a service call (the service decides everything else)."""
    ctx = service_context()
    actor = operator(data["operator"])
    req = HandoffRequest(
        number=data["number"],
        kind=EventKind(data["kind"]),
        scan_id=data["scan_id"],
        event_at=data["event_at"],
        giver=_user(ctx, data.get("giver")),
        receiver=_user(ctx, data.get("receiver")),
        receipt=receipt_from(ctx, data.get("receipt"), data.get("receiver")),
        giver_receipt=receipt_from(ctx, data.get("giver_receipt"), data.get("giver")),
        location=data.get("location", ""),
        device=device().name,
        seal_state=SealState(data["seal_state"]) if data.get("seal_state") else None,
        seal_number=data.get("seal_number"),
        count=data.get("count", 1),
        reason=DeliveryFailure(data["reason"]) if data.get("reason") else None,
        authority=Authority(data["authority"]) if data.get("authority") else None,
        note=data.get("note", ""),
        incident_report=data.get("incident_report"),
    )
    try:
        return record_handoff(ctx, actor, req)
    except (NotCurrentHolderError, EventOrderError):
        # A second scan of an envelope its receiver already holds at this stage: nothing is
        # written either way, but the scanner says "already received", not "not held by".
        done = already_recorded(ctx, actor, req)
        rollback_quietly(ctx.session)
        if done is None or done.to_user is None:
            raise
        raise AlreadyReceivedError(
            number=req.number.strip().upper(), holder=done.to_user.username,
            kind=done.kind.value, at=done.event_at.isoformat()) from None


@blp.route("/handoffs")
class Handoffs(MethodView):
    @blp.arguments(HandoffIn)
    @blp.response(201, HandoffResultOut, description="Recorded")
    @blp.alt_response(200, schema=HandoffResultOut, description="Replay of an earlier scan id")
    @blp.alt_response(409, schema=ErrorOut,
                      description="not_current_holder, event_out_of_order, already_received, "
                                  "scan_id_conflict")
    @blp.alt_response(422, schema=ErrorOut, description="check_digit_invalid, invalid_field")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Record one handoff. 201 when new; 200 with the same body when replayed."""
        rec = record(data)
        return recorded_out(service_context().session, rec), 200 if rec.replayed else 201


def _number_key(raw: object) -> str | None:
    return raw.strip().upper() if isinstance(raw, str) else None


@blp.route("/handoffs/batch")
class HandoffBatch(MethodView):
    @blp.arguments(BatchIn)
    @blp.response(200, BatchOut)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Apply up to 500 scans in order, each in its own transaction, each with its result.

        Each item's `status` is true whatever happens to the others:

        - **201** recorded, **200** replayed (`result` set): committed.
        - **4xx** refused (`error` with its slug; nothing of the item is stored). One refused
          scan does not block the others, but later scans of the same envelope are refused
          with `depends_on_refused`: they would build on a state that was never recorded.
        - **500** `internal_error`: the item failed unexpectedly; it was rolled back (nothing
          of it is stored) and logged, later scans of its envelope are `depends_on_refused`,
          and the batch goes on with the other items.
        - **503** `database_unavailable`: the database dropped while recording the item; it
          was rolled back and the batch stops there: every later item is **503**
          `not_attempted` (nothing of it was written; send it again).

        `accepted`, `replayed`, `refused`, `failed` (500 and 503 `database_unavailable`) and
        `not_attempted` count the items.
        """
        items = data["items"]
        if len(items) > MAX_BATCH:
            raise BatchTooLargeError()
        session = service_context().session
        refused: set[str] = set()
        results: list[dict[str, Any]] = []
        counts = {"accepted": 0, "replayed": 0, "refused": 0, "failed": 0, "not_attempted": 0}
        stopped_at: int | None = None

        def failed(index: int, scan_id: str | None, exc: KT1Error, count: str) -> None:
            counts[count] += 1
            results.append({"index": index, "scan_id": scan_id, "status": exc.status,
                            "result": None, "error": error_body(
                                exc.status, exc.slug, exc.message,
                                {"message_vi": exc.message_local})})

        for index, item in enumerate(items):
            scan_id = item.get("scan_id") if isinstance(item.get("scan_id"), str) else None
            key = _number_key(item.get("number"))
            if stopped_at is not None:
                failed(index, scan_id, NotAttemptedError(stopped_at=stopped_at),
                       "not_attempted")
                continue
            try:
                if key in refused:
                    raise DependsOnRefusedError(number=key)
                loaded = HandoffIn().load(item)
                rec = record(loaded)
            except SchemaError as exc:
                refused.add(key or f"#{index}")
                counts["refused"] += 1
                results.append({"index": index, "scan_id": scan_id, "status": 422,
                                "result": None, "error": error_body(
                                    422, "invalid_request", "Invalid scan.",
                                    {"json": exc.messages_dict})})
                continue
            except Exception as exc:
                rollback_quietly(session)
                if is_database_unavailable(exc):
                    log.warning("database unavailable at batch item %d: the batch stops "
                                "there", index)
                    stopped_at = index
                    failed(index, scan_id, DatabaseUnavailableError(), "failed")
                elif isinstance(exc, KT1Error):
                    # "already received" wrote nothing but breaks nothing: later scans of
                    # the envelope build on the recorded state, so they still go through
                    if key and not isinstance(exc, AlreadyReceivedError):
                        refused.add(key)
                    failed(index, scan_id, exc, "refused")
                else:
                    log.error("batch item %d failed unexpectedly and was rolled back: %s",
                              index, failure_summary(exc))
                    refused.add(key or f"#{index}")
                    failed(index, scan_id, InternalError(), "failed")
                continue
            counts["replayed" if rec.replayed else "accepted"] += 1
            results.append({"index": index, "scan_id": scan_id,
                            "status": 200 if rec.replayed else 201,
                            "result": _committed_out(session, rec, index), "error": None})
        return {**counts, "results": results}


def _committed_out(session: Session, rec: Recorded, index: int) -> dict[str, Any] | None:
    """The body of a committed item; if it cannot be read back, the item is still reported
    as committed (its status), with no ``result``."""
    try:
        return recorded_out(session, rec)
    except Exception as exc:  # the item is committed whatever happens here
        rollback_quietly(session)
        log.error("batch item %d was committed but its result could not be read: %s",
                  index, failure_summary(exc))
        return None
