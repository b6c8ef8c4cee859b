"""A realistic demo network built through the real services (``kt1 demo``).

Two provinces, four agencies, three KT1 post offices, users of every role, and about sixty
envelopes of every class in every stage, including one bag that arrived with a broken
seal and one envelope that is overdue. Running it again changes nothing but passwords.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import cycle

from sqlalchemy import func, select

from kt1.demo_copies import seed_copies
from kt1.demo_inspection import seed_inspection
from kt1.demo_protection import seed_protection
from kt1.models import Envelope, Incident, Unit, User
from kt1.models.enums import (
    AckMethod,
    Authority,
    Classification,
    DeliveryFailure,
    EventKind,
    IncidentKind,
    Role,
    SealState,
    ServiceClass,
    UnitKind,
    Urgency,
)
from kt1.services import bagging, custody, incidents, leaving, sheets
from kt1.services.access import Receipt, hash_secret
from kt1.services.context import Ctx
from kt1.services.directory import add_unit, add_user, set_serving_offices, set_user_active
from kt1.services.paper import record_print
from kt1.services.registration import EnvelopeDraft, register_envelope

DEFAULT_PASSWORD = "kt1-demo-2026"  # noqa: S105  (demo data only, printed to the user)
DEMO_PIN = "1234"
SUBJECT_TEXT = "Báo cáo tình hình bảo đảm an ninh trật tự quý IV"

UNITS = [
    # code, name, kind, province code, province name, address, parent
    ("VPTU", "Văn phòng Thành ủy Hà Nội", UnitKind.AGENCY, "01", "Hà Nội",
     "5 Đinh Lễ, Hoàn Kiếm, Hà Nội", "Thành ủy Hà Nội"),
    ("UBND-HN", "Văn phòng UBND thành phố Hà Nội", UnitKind.AGENCY, "01", "Hà Nội",
     "12 Lê Lai, Hoàn Kiếm, Hà Nội", "UBND thành phố Hà Nội"),
    ("UBND-HCM", "Văn phòng UBND TP Hồ Chí Minh", UnitKind.AGENCY, "79", "TP Hồ Chí Minh",
     "86 Lê Thánh Tôn, Quận 1, TP Hồ Chí Minh", "UBND TP Hồ Chí Minh"),
    ("CA-HCM", "Công an TP Hồ Chí Minh", UnitKind.AGENCY, "79", "TP Hồ Chí Minh",
     "268 Trần Hưng Đạo, Quận 1, TP Hồ Chí Minh", "Bộ Công an"),
    ("BC-HK", "Bưu cục KT1 Hoàn Kiếm", UnitKind.POST_OFFICE, "01", "Hà Nội",
     "75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội", "Cục Bưu điện Trung ương"),
    ("BC-BD", "Bưu cục KT1 Ba Đình", UnitKind.POST_OFFICE, "01", "Hà Nội",
     "1 Hùng Vương, Ba Đình, Hà Nội", "Cục Bưu điện Trung ương"),
    ("BC-HCM", "Bưu cục KT1 TP Hồ Chí Minh", UnitKind.POST_OFFICE, "79", "TP Hồ Chí Minh",
     "125 Hai Bà Trưng, Quận 1, TP Hồ Chí Minh", "Cục Bưu điện Trung ương"),
]

#: The officer who left UBND-HCM after handing over what he held (biên bản bàn giao).
LEFT = "chuyenvien2.ubndhcm"

#: username, full name, role, unit, head of unit
USERS = [
    ("vanthu.vptu", "Nguyễn Thị Hoa", Role.REGISTRY_CLERK, "VPTU", False),
    ("lanhdao.vptu", "Trần Quốc Hùng", Role.REGISTRY_CLERK, "VPTU", True),
    ("baomat.vptu", "Lê Văn Bình", Role.SECURITY_OFFICER, "VPTU", False),
    ("vanthu.ubndhn", "Phạm Thu Trang", Role.REGISTRY_CLERK, "UBND-HN", False),
    ("lanhdao.ubndhn", "Đỗ Minh Đức", Role.REGISTRY_CLERK, "UBND-HN", True),
    ("chuyenvien.ubndhn", "Vũ Thị Lan", Role.REGISTRY_CLERK, "UBND-HN", False),
    ("baomat.ubndhn", "Hoàng Văn Nam", Role.SECURITY_OFFICER, "UBND-HN", False),
    ("vanthu.ubndhcm", "Ngô Thị Mai", Role.REGISTRY_CLERK, "UBND-HCM", False),
    ("lanhdao.ubndhcm", "Bùi Văn Thắng", Role.REGISTRY_CLERK, "UBND-HCM", True),
    ("chuyenvien.ubndhcm", "Đặng Thị Ngọc", Role.REGISTRY_CLERK, "UBND-HCM", False),
    # left the agency properly: handed everything over, then the account was locked
    (LEFT, "Phùng Văn Hải", Role.REGISTRY_CLERK, "UBND-HCM", False),
    ("baomat.ubndhcm", "Trịnh Văn Long", Role.SECURITY_OFFICER, "UBND-HCM", False),
    ("vanthu.cahcm", "Lý Thị Hạnh", Role.REGISTRY_CLERK, "CA-HCM", False),
    ("lanhdao.cahcm", "Phan Văn Dũng", Role.REGISTRY_CLERK, "CA-HCM", True),
    ("baomat.cahcm", "Cao Thị Yến", Role.SECURITY_OFFICER, "CA-HCM", False),
    ("giaodich.hk", "Đinh Văn Toàn", Role.COUNTER_CLERK, "BC-HK", False),
    ("buuta.hk", "Mai Văn Sơn", Role.COURIER, "BC-HK", False),
    ("giaodich.bd", "Tạ Thị Thủy", Role.COUNTER_CLERK, "BC-BD", False),
    ("buuta.bd", "Hồ Văn Khải", Role.COURIER, "BC-BD", False),
    ("giaodich.hcm", "Lâm Thị Kim", Role.COUNTER_CLERK, "BC-HCM", False),
    ("buuta.hcm", "Châu Văn Phúc", Role.COURIER, "BC-HCM", False),
    ("quantri", "Quản trị hệ thống", Role.ADMINISTRATOR, "BC-HK", False),
]

#: which post office serves each agency
SERVED_BY = {"VPTU": "BC-HK", "UBND-HN": "BC-BD", "UBND-HCM": "BC-HCM", "CA-HCM": "BC-HCM"}
CLERK = {"VPTU": "vanthu.vptu", "UBND-HN": "vanthu.ubndhn", "UBND-HCM": "vanthu.ubndhcm",
         "CA-HCM": "vanthu.cahcm"}
NAMED = {"UBND-HN": "chuyenvien.ubndhn", "UBND-HCM": "chuyenvien.ubndhcm"}
HEAD = {"VPTU": "lanhdao.vptu", "UBND-HN": "lanhdao.ubndhn", "UBND-HCM": "lanhdao.ubndhcm",
        "CA-HCM": "lanhdao.cahcm"}
COUNTER = {"BC-HK": "giaodich.hk", "BC-BD": "giaodich.bd", "BC-HCM": "giaodich.hcm"}
COURIER = {"BC-HK": "buuta.hk", "BC-BD": "buuta.bd", "BC-HCM": "buuta.hcm"}
DOC_CODES = {"VPTU": "TU", "UBND-HN": "UBND", "UBND-HCM": "UBND", "CA-HCM": "CAHCM"}
#: Who drafts and signs each agency's Tuyệt mật and Tối mật documents, and the list of state
#: secrets they cite (docs/domain.md §8, classification basis). A drafter with an account
#: hands the document to the registry in the first link; the others are named.
DRAFTER = {"UBND-HN": "chuyenvien.ubndhn", "UBND-HCM": "chuyenvien.ubndhcm"}
DRAFTER_NAME = {"VPTU": "Nguyễn Văn Khánh", "CA-HCM": "Trần Minh Tuấn"}
SIGNER = {"VPTU": ("Trần Quốc Hùng", "Chánh Văn phòng Thành ủy"),
          "UBND-HN": ("Đỗ Minh Đức", "Chánh Văn phòng UBND thành phố"),
          "UBND-HCM": ("Bùi Văn Thắng", "Chánh Văn phòng UBND thành phố"),
          "CA-HCM": ("Phan Văn Dũng", "Phó Giám đốc Công an thành phố")}
BASIS = {"VPTU": "Khoản 3 Điều 1 Danh mục bí mật nhà nước của Đảng",
         "UBND-HN": "Khoản 2 Điều 1 Danh mục bí mật nhà nước lĩnh vực nội vụ",
         "UBND-HCM": "Khoản 2 Điều 1 Danh mục bí mật nhà nước lĩnh vực nội vụ",
         "CA-HCM": "Khoản 1 Điều 2 Danh mục bí mật nhà nước lĩnh vực công an"}

#: Journey stages in order; each batch of envelopes stops at one of them.
STAGES = [
    "registered", "accepted", "bagged", "sealed", "dispatched", "received", "opened",
    "out_for_delivery", "failed", "delivered", "arrived", "with_addressee",
]
TERMINAL_EXTRAS = ["returned", "recalled"]


@dataclass
class DemoResult:
    created: bool
    users: list[tuple[str, str, str, str]] = field(default_factory=list)
    envelopes: int = 0
    password: str = DEFAULT_PASSWORD


class Journey:
    """Moves a batch of envelopes along with a clock that only ever goes forward."""

    def __init__(self, ctx: Ctx, users: dict[str, User], start: datetime) -> None:
        self.ctx = ctx
        self.users = users
        self.t = start

    def tick(self, minutes: float) -> datetime:
        self.t += timedelta(minutes=minutes)
        # the server records each scan a few seconds after the device took it
        self.ctx.now = lambda: self.t + timedelta(seconds=4)
        return self.t

    def u(self, name: str) -> User:
        return self.users[name]

    def paper(self, giver: str, receiver: str, number: str) -> Receipt:
        """The receiver signs an internal handover sheet (phiếu chuyển giao nội bộ) that the
        giver made and printed, and the unit marks it signed: a paper receipt bound to paper
        that exists (docs/access.md)."""
        sheet = sheets.prepare_internal_sheet(self.ctx, self.u(giver), receiver, [number])
        record_print(self.ctx, self.u(giver), sheet)
        self.ctx.session.commit()
        sheets.mark_signed(self.ctx, self.u(receiver), sheet.number, [number])
        return Receipt(user=self.u(receiver), method=AckMethod.PAPER, reference=sheet.number)

    def session_receipt(self, user: str) -> Receipt:
        return Receipt(user=self.u(user), method=AckMethod.SESSION)

    def pin(self, user: str) -> Receipt:
        """The giver's identification at the handover (the demo PIN)."""
        return Receipt(user=self.u(user), method=AckMethod.PIN, secret=DEMO_PIN)

    def handoff(self, actor: str, number: str, kind: EventKind, minutes: float, **kw: object
                ) -> None:
        custody.record_handoff(self.ctx, self.u(actor), custody.HandoffRequest(
            number=number, kind=kind, scan_id=str(uuid.uuid4()), event_at=self.tick(minutes),
            device="demo", **kw))  # type: ignore[arg-type]

    def run(self, numbers: list[str], sender: str, recipient: str, stop: str,
            broken_seal: bool = False) -> None:
        """Carry ``numbers`` from ``sender`` to ``recipient`` up to stage ``stop``."""
        order = STAGES + TERMINAL_EXTRAS
        last = order.index(stop) if stop in STAGES else order.index("with_addressee")

        def reached(stage: str) -> bool:
            return order.index(stage) <= last

        origin, dest = SERVED_BY[sender], SERVED_BY[recipient]
        gd_o, gd_d = COUNTER[origin], COUNTER[dest]
        bt_o, bt_d = COURIER[origin], COURIER[dest]
        clerk_s, clerk_r = CLERK[sender], CLERK[recipient]
        ctx = self.ctx
        if stop == "returned":
            for n in numbers:
                self.handoff(gd_o, n, EventKind.ACCEPTED, 40, giver=self.u(clerk_s),
                             receiver=self.u(gd_o), receipt=self.session_receipt(gd_o),
                             giver_receipt=self.pin(clerk_s), location=origin)
            for n in numbers:
                self.handoff(clerk_s, n, EventKind.RETURNED, 90, giver=self.u(gd_o),
                             receiver=self.u(clerk_s), receipt=self.session_receipt(clerk_s),
                             giver_receipt=self.pin(gd_o),
                             note="Sai địa chỉ nơi nhận, hoàn về nơi gửi")
            return
        if not reached("accepted"):
            return
        for n in numbers:
            self.handoff(gd_o, n, EventKind.ACCEPTED, 35, giver=self.u(clerk_s),
                         receiver=self.u(gd_o), receipt=self.session_receipt(gd_o),
                         giver_receipt=self.pin(clerk_s), location=origin,
                         count=len(numbers))
        holder = gd_o
        if origin != dest:
            if not reached("bagged"):
                return
            bag = bagging.open_bag(ctx, self.u(gd_o), dest, str(uuid.uuid4())).bag.number
            for n in numbers:
                bagging.add_to_bag(ctx, self.u(gd_o), bag, n, str(uuid.uuid4()), self.tick(3),
                                   device="demo")
            if not reached("sealed"):
                return
            seal = f"NP{uuid.uuid4().int % 10**7:07d}"
            bagging.seal_bag(ctx, self.u(gd_o), bag, seal, str(uuid.uuid4()), self.tick(5),
                             tracker_id=f"GPS-{bag[-3:]}", device="demo")
            if not reached("dispatched"):
                return
            bagging.dispatch_bag(ctx, self.u(gd_o), bag, self.u(bt_o), self.pin(bt_o),
                                 str(uuid.uuid4()), self.tick(20), vehicle="29C-123.45",
                                 is_dedicated_vehicle=False, escort_name="Nguyễn Văn Hộ",
                                 device="demo")
            if not reached("received"):
                return
            if broken_seal:
                bagging.receive_bag(
                    ctx, self.u(gd_d), bag, self.u(bt_o), seal, self.session_receipt(gd_d),
                    str(uuid.uuid4()), self.tick(180), seal_state=SealState.BROKEN,
                    incident_report="Dây niêm phong túi bị đứt, kẹp chì có dấu hiệu bị cạy.",
                    device="demo", courier_receipt=self.pin(bt_o))
                return
            bagging.receive_bag(ctx, self.u(gd_d), bag, self.u(bt_o), seal,
                                self.session_receipt(gd_d), str(uuid.uuid4()), self.tick(180),
                                device="demo", courier_receipt=self.pin(bt_o))
            if not reached("opened"):
                return
            bagging.open_bag_contents(ctx, self.u(gd_d), bag, numbers, str(uuid.uuid4()),
                                      self.tick(15), device="demo")
            holder = gd_d
        if not reached("out_for_delivery"):
            return
        for n in numbers:
            self.handoff(holder, n, EventKind.OUT_FOR_DELIVERY, 10, giver=self.u(holder),
                         receiver=self.u(bt_d), receipt=self.pin(bt_d))
        if stop == "failed":
            for n in numbers:
                self.handoff(bt_d, n, EventKind.DELIVERY_FAILED, 40,
                             reason=DeliveryFailure.UNIT_CLOSED,
                             note="Ngoài giờ làm việc, hẹn phát lại")
            return
        if not reached("delivered"):
            return
        for n in numbers:
            self.handoff(clerk_r, n, EventKind.DELIVERED, 45, giver=self.u(bt_d),
                         receiver=self.u(clerk_r), receipt=self.session_receipt(clerk_r),
                         giver_receipt=self.pin(bt_d), location=recipient)
        if not reached("arrived"):
            return
        for n in numbers:
            self.handoff(clerk_r, n, EventKind.REGISTERED_INCOMING, 10, location=recipient)
        if not reached("with_addressee"):
            return
        for n in numbers:
            env = ctx.session.execute(select(Envelope).where(Envelope.number == n)).scalar_one()
            if env.is_addressee_only and env.recipient_user_id:
                addressee = self.u(NAMED[recipient])
                self.handoff(clerk_r, n, EventKind.PASSED_TO_ADDRESSEE, 10, giver=self.u(clerk_r),
                             receiver=addressee,
                             receipt=self.paper(clerk_r, addressee.username, n),
                             authority=Authority.ADDRESSEE)
            else:
                head = HEAD[recipient]
                self.handoff(clerk_r, n, EventKind.PASSED_TO_ADDRESSEE, 10, giver=self.u(clerk_r),
                             receiver=self.u(head), receipt=self.paper(clerk_r, head, n))
            if stop == "recalled":
                giver = ctx.session.get(User, env.holder_user_id)
                self.handoff(CLERK[sender], n, EventKind.RECALLED, 24 * 60, giver=giver,
                             receiver=self.u(CLERK[sender]),
                             receipt=self.session_receipt(CLERK[sender]),
                             giver_receipt=Receipt(user=giver, method=AckMethod.PIN,
                                                   secret=DEMO_PIN) if giver else None,
                             note="Thu hồi tài liệu theo hạn ghi trên bì")


def is_built(ctx: Ctx) -> bool:
    return ctx.session.execute(select(Unit.id).where(Unit.code == "VPTU")).first() is not None


def set_passwords(ctx: Ctx, password: str) -> None:
    names = [u[0] for u in USERS]
    hashed = hash_secret(password)
    for user in ctx.session.execute(select(User).where(User.username.in_(names))).scalars():
        user.password_hash = hashed
    ctx.session.commit()


def build(ctx: Ctx, password: str = DEFAULT_PASSWORD, now: datetime | None = None
          ) -> DemoResult:
    """Fill the database with the demo network, once. Later runs only reset passwords."""
    result = DemoResult(created=False, password=password,
                        users=[(u[0], u[1], str(u[2]), u[3]) for u in USERS])
    if is_built(ctx):
        set_passwords(ctx, password)
        result.envelopes = ctx.session.execute(select(func.count(Envelope.id))).scalar_one()
        return result
    real_now = now or ctx.now()
    for code, name, kind, pcode, pname, address, parent in UNITS:
        add_unit(ctx, None, code, name, kind, pcode, pname, address, parent)
    for agency, office in SERVED_BY.items():
        set_serving_offices(ctx, None, agency, [office])
    users: dict[str, User] = {}
    for username, full_name, role, unit, head in USERS:
        users[username], _badge = add_user(ctx, None, username, full_name, role, unit,
                                           password, DEMO_PIN, head)

    saved_clock = ctx.now
    try:
        result.envelopes = _envelopes(ctx, users, real_now)
        result.envelopes += seed_protection(ctx, users, real_now)  # docs/domain.md §8
        result.envelopes += seed_copies(ctx, users, real_now)
        seed_inspection(ctx, users, real_now)
    finally:
        ctx.now = saved_clock
    result.created = True
    return result


def _envelopes(ctx: Ctx, users: dict[str, User], now: datetime) -> int:
    """About 60 envelopes: every class, every service, every stage."""
    # cycles of co-prime lengths (5 and 4), so every class meets every service
    classes = cycle([Classification.TOP_SECRET, Classification.SECRET,
                     Classification.CONFIDENTIAL, Classification.UNCLASSIFIED,
                     Classification.SECRET])
    services = cycle([ServiceClass.STANDARD, ServiceClass.FLASH, ServiceClass.STANDARD,
                      ServiceClass.TIMED])
    urgencies = cycle([Urgency.NORMAL, Urgency.URGENT, Urgency.NORMAL, Urgency.VERY_URGENT])
    routes = cycle([("VPTU", "UBND-HCM"), ("UBND-HN", "CA-HCM"), ("UBND-HCM", "UBND-HN"),
                    ("VPTU", "UBND-HN"), ("CA-HCM", "VPTU"), ("UBND-HCM", "CA-HCM")])
    plan: list[tuple[str, int, float]] = []  # stage, batch size, hours ago it started
    for stage in STAGES:  # in progress: started earlier today, nothing late yet
        plan.append((stage, 2, 15.0))
        plan.append((stage, 2, 12.0))
    for stage in ("arrived", "with_addressee"):
        plan.append((stage, 3, 24 * 6.0))
        plan.append((stage, 3, 24 * 3.0))
    plan += [("returned", 1, 24 * 4.0), ("recalled", 1, 24 * 9.0)]
    count = 0
    for seq, (stage, size, hours_ago) in enumerate(plan):
        sender, recipient = next(routes)
        start = now - timedelta(hours=hours_ago) + timedelta(minutes=seq)
        numbers = _register_batch(ctx, users, sender, recipient, size, start, classes,
                                  services, urgencies, stage)
        count += len(numbers)
        Journey(ctx, users, start + timedelta(minutes=30)).run(
            numbers, sender, recipient, stage)
    # One bag that arrived with a broken seal (rule 7): an incident is opened.
    start = now - timedelta(hours=16)
    numbers = _register_batch(ctx, users, "VPTU", "UBND-HCM", 1, start, classes, services,
                              urgencies, "received", force=Classification.SECRET)
    Journey(ctx, users, start + timedelta(minutes=30)).run(numbers, "VPTU", "UBND-HCM",
                                                           "received", broken_seal=True)
    # Its incident reached the head of the sending agency, who acknowledged it (đã nắm).
    seal_incident = ctx.session.execute(select(Incident.id).where(
        Incident.kind == IncidentKind.SEAL_ANOMALY).order_by(Incident.id.desc())).scalar()
    if seal_incident is not None:
        incidents.acknowledge(ctx, users["lanhdao.vptu"], seal_incident)
    count += 1
    # One envelope accepted twelve days ago and stuck at the destination office: overdue.
    start = now - timedelta(days=12)
    numbers = _register_batch(ctx, users, "UBND-HN", "UBND-HCM", 1, start, classes, services,
                              urgencies, "opened", force=Classification.CONFIDENTIAL)
    Journey(ctx, users, start + timedelta(minutes=30)).run(numbers, "UBND-HN", "UBND-HCM",
                                                           "opened")
    count += 1
    count += _circulation(ctx, users, now, classes, services, urgencies)
    return count + _leaving(ctx, users, now, classes, services, urgencies)


def _circulation(ctx: Ctx, users: dict[str, User], now: datetime, classes: cycle,
                 services: cycle, urgencies: cycle) -> int:
    """Internal circulation (luân chuyển nội bộ, docs/rules.md rule A7), each step signed by
    its receiver's PIN: one envelope that arrived at UBND-HN goes registry -> head (for
    direction, with a note) -> officer -> back to the registry; one outgoing envelope of VPTU
    goes to its head and back to the registry before the post office accepts it."""
    start = now - timedelta(hours=20)
    (incoming,) = _register_batch(ctx, users, "VPTU", "UBND-HN", 1, start, classes, services,
                                  urgencies, "arrived", force=Classification.SECRET)
    journey = Journey(ctx, users, start + timedelta(minutes=30))
    journey.run([incoming], "VPTU", "UBND-HN", "arrived")
    clerk, head, officer = CLERK["UBND-HN"], HEAD["UBND-HN"], NAMED["UBND-HN"]
    for kind, giver, receiver, minutes, note in (
            (EventKind.CIRCULATED_FOR_DIRECTION, clerk, head, 20,
             "Kính trình lãnh đạo cho ý kiến chỉ đạo"),
            (EventKind.CIRCULATED_FOR_HANDLING, head, officer, 90,
             "Giao đ/c Lan chủ trì tham mưu, báo cáo trước ngày 05/12"),
            (EventKind.CIRCULATED_TO_REGISTRY, officer, clerk, 240,
             "Đã xử lý xong, trả văn thư lưu hồ sơ")):
        journey.handoff(giver, incoming, kind, minutes, giver=journey.u(giver),
                        receiver=journey.u(receiver), receipt=journey.pin(receiver),
                        location="UBND-HN", note=note, seal_state=SealState.NOT_APPLICABLE)

    start = now - timedelta(hours=6)
    (outgoing,) = _register_batch(ctx, users, "VPTU", "UBND-HCM", 1, start, classes, services,
                                  urgencies, "accepted", force=Classification.CONFIDENTIAL)
    journey = Journey(ctx, users, start + timedelta(minutes=5))
    clerk, head = CLERK["VPTU"], HEAD["VPTU"]
    journey.handoff(clerk, outgoing, EventKind.CIRCULATED_FOR_DIRECTION, 5,
                    giver=journey.u(clerk), receiver=journey.u(head),
                    receipt=journey.pin(head), location="VPTU", note="Trình ký phát hành",
                    seal_state=SealState.NOT_APPLICABLE)
    journey.handoff(head, outgoing, EventKind.CIRCULATED_TO_REGISTRY, 30,
                    giver=journey.u(head), receiver=journey.u(clerk),
                    receipt=journey.pin(clerk), location="VPTU", note="Đã ký, phát hành",
                    seal_state=SealState.NOT_APPLICABLE)
    journey.run([outgoing], "VPTU", "UBND-HCM", "accepted")
    return 2


def _leaving(ctx: Ctx, users: dict[str, User], now: datetime, classes: cycle,
             services: cycle, urgencies: cycle) -> int:
    """A person who left properly (docs/rules.md, rule A6): an officer of UBND-HCM was given
    two envelopes to handle, handed both over to a colleague (who signed by PIN, with a
    numbered handover record to print), and only then was his account locked."""
    start = now - timedelta(days=2)
    numbers = _register_batch(ctx, users, "UBND-HN", "UBND-HCM", 2, start, classes, services,
                              urgencies, "arrived", force=Classification.CONFIDENTIAL)
    journey = Journey(ctx, users, start + timedelta(minutes=30))
    journey.run(numbers, "UBND-HN", "UBND-HCM", "arrived")
    clerk = CLERK["UBND-HCM"]
    for number in numbers:
        journey.handoff(clerk, number, EventKind.CIRCULATED_FOR_HANDLING, 15,
                        giver=journey.u(clerk), receiver=journey.u(LEFT),
                        receipt=journey.pin(LEFT), location="UBND-HCM",
                        seal_state=SealState.NOT_APPLICABLE)
    journey.tick(60 * 20)
    colleague = NAMED["UBND-HCM"]
    leaving.hand_over_all(ctx, users["quantri"], LEFT, colleague, journey.pin(colleague))
    journey.tick(10)
    set_user_active(ctx, users["quantri"], LEFT, False)
    return len(numbers)


def _register_batch(ctx: Ctx, users: dict[str, User], sender: str, recipient: str, size: int,
                    start: datetime, classes: cycle, services: cycle, urgencies: cycle,
                    stage: str, force: Classification | None = None) -> list[str]:
    numbers: list[str] = []
    clock = [start]

    def now() -> datetime:
        return clock[0]

    ctx.now = now
    for i in range(size):
        clock[0] = start + timedelta(minutes=2 * i)
        classification = force or next(classes)
        service = next(services)
        named = recipient in NAMED and classification is Classification.TOP_SECRET
        secret = classification in (Classification.TOP_SECRET, Classification.SECRET)
        draft = EnvelopeDraft(
            classification=classification,
            recipient_unit_code=recipient,
            document_number=f"{100 + len(numbers) + int(start.timestamp()) % 800}/"
                            f"{'CV' if i % 2 else 'KH'}-{DOC_CODES[sender]}",
            service=service,
            agreed_at=start + timedelta(days=2) if service is ServiceClass.TIMED else None,
            urgency=Urgency.FLASH if service is ServiceClass.FLASH else next(urgencies),
            recipient_username=NAMED[recipient] if named else None,
            is_addressee_only=named,
            copies=1 + i % 3,
            recall_by=(start + timedelta(days=10)).date() if stage == "recalled" else None,
            subject=SUBJECT_TEXT if classification is not Classification.TOP_SECRET else None,
            drafter_username=DRAFTER.get(sender) if secret else None,
            drafter_name=DRAFTER_NAME.get(sender) if secret else None,
            signer_name=SIGNER[sender][0] if secret else None,
            signer_title=SIGNER[sender][1] if secret else None,
            classification_basis=BASIS[sender] if secret else None,
        )
        numbers.append(register_envelope(ctx, users[CLERK[sender]], draft).number)
    return numbers
