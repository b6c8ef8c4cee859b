"""Drive an envelope through the postal stages with real service calls (test helper)."""

from __future__ import annotations

from typing import Any

from kt1.models import Envelope
from kt1.models.enums import Classification, DeliveryFailure, EventKind, ServiceClass
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from kt1.services.registration import EnvelopeDraft, register_envelope
from tests.conftest import Clock, Network, new_scan, pin

#: What a Tuyệt mật or Tối mật registration must record (the provenance rule the migration
#: seeds, docs/domain.md §8): the drafter, the signer and the classification basis.
PROVENANCE: dict[str, Any] = {
    "drafter_name": "Nguyễn Văn Soạn", "signer_name": "Trần Văn Ký",
    "signer_title": "Chánh Văn phòng",
    "classification_basis": "Khoản 2 Điều 1 Danh mục bí mật nhà nước ngành Nội vụ",
}
NEEDS_PROVENANCE = (Classification.TOP_SECRET, Classification.SECRET, "top_secret", "secret")

STAGES = [
    "registered", "accepted", "bagged", "sealed", "dispatched", "received", "opened",
    "out_for_delivery", "delivered", "arrived",
]


def register(ctx: Ctx, net: Network, clerk: str = "vt_bnv", recipient: str = "UBND-HCM",
             **kw: Any) -> Envelope:
    classification = kw.pop("classification", Classification.SECRET)
    if classification in NEEDS_PROVENANCE:  # what is not given (None: left out on purpose)
        kw = {**PROVENANCE, **kw}
    draft = EnvelopeDraft(
        classification=classification,
        recipient_unit_code=recipient,
        document_number=kw.pop("document_number", "15/KH-BNV"),
        service=kw.pop("service", ServiceClass.STANDARD),
        **kw,
    )
    return register_envelope(ctx, net[clerk], draft)


def carry(ctx: Ctx, net: Network, clock: Clock, envelope: Envelope, until: str = "arrived",
          seal: str = "NP-000123") -> dict[str, Any]:
    """Carry ``envelope`` (BNV -> UBND-HCM) from registration up to stage ``until``."""
    out: dict[str, Any] = {}
    number = envelope.number
    stop = STAGES.index(until)

    def at(stage: str) -> bool:
        return STAGES.index(stage) <= stop

    if at("accepted"):
        custody.accept_at_counter(ctx, net["gd_hn"], number, net["vt_bnv"], pin(net["gd_hn"]),
                                  new_scan(), clock.tick(), giver_receipt=pin(net["vt_bnv"]))
    if at("bagged"):
        bag = bagging.open_bag(ctx, net["gd_hn"], "BC-HCM", new_scan()).bag
        out["bag"] = bag.number
        bagging.add_to_bag(ctx, net["gd_hn"], bag.number, number, new_scan(), clock.tick())
    if at("sealed"):
        bagging.seal_bag(ctx, net["gd_hn"], out["bag"], seal, new_scan(), clock.tick(),
                         tracker_id="GPS-1")
    if at("dispatched"):
        bagging.dispatch_bag(ctx, net["gd_hn"], out["bag"], net["bt_hn"], pin(net["bt_hn"]),
                             new_scan(), clock.tick(), vehicle="29A-12345",
                             is_dedicated_vehicle=True)
    if at("received"):
        bagging.receive_bag(ctx, net["gd_hcm"], out["bag"], net["bt_hn"], seal,
                            pin(net["gd_hcm"]), new_scan(), clock.tick(60),
                            courier_receipt=pin(net["bt_hn"]))
    if at("opened"):
        bagging.open_bag_contents(ctx, net["gd_hcm"], out["bag"], [number], new_scan(),
                                  clock.tick())
    if at("out_for_delivery"):
        custody.record_handoff(ctx, net["gd_hcm"], custody.HandoffRequest(
            number=number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
            event_at=clock.tick(), giver=net["gd_hcm"], receiver=net["bt_hcm"],
            receipt=pin(net["bt_hcm"])))
    if at("delivered"):
        custody.deliver(ctx, net["bt_hcm"], number, net["vt_hcm"], pin(net["vt_hcm"]),
                        new_scan(), clock.tick())
    if at("arrived"):
        custody.register_arrival(ctx, net["vt_hcm"], number, new_scan(), clock.tick())
    return out


def fail_delivery(ctx: Ctx, net: Network, clock: Clock, number: str) -> None:
    custody.record_handoff(ctx, net["bt_hcm"], custody.HandoffRequest(
        number=number, kind=EventKind.DELIVERY_FAILED, scan_id=new_scan(),
        event_at=clock.tick(), reason=DeliveryFailure.ADDRESSEE_ABSENT))
