"""What a label shows: the letter, the service marks, the number; never the subject, never a
classification word, never inner-envelope data. Checked by reading back every line of text
drawn on the label, and by comparing pixels."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from kt1.labels import LabelData, render_label
from kt1.labels.codes import code128_pattern
from kt1.labels.content import ADDRESSEE_ONLY, FLASH_MARK, TIMED_MARK
from kt1.labels.fonts import BOLD, LICENSE, REGULAR, font
from kt1.models.enums import Classification, ServiceClass
from kt1.services.context import Ctx
from kt1.services.printing import LabelOptions, label_data
from kt1.services.subjects import SubjectCipher
from printers import Code128, QRCode
from tests.conftest import SUBJECT_KEY, Clock, Network
from tests.journey import register

SUBJECT = "Phương án bảo vệ mục tiêu trọng điểm"
#: Classification words (Vietnamese and the code's English) that must never be outside.
FORBIDDEN = re.compile(
    r"tuyệt\s*mật|tối\s*mật|\bmật\b|top.?secret|\bsecret\b|confidential|unclassified|"
    r"\bthường\b|độ\s*mật", re.IGNORECASE)


@pytest.fixture
def before_2026(clock: Clock) -> Clock:
    """Under Decree 26/2020 a subject may be recorded (Tuyệt mật with approval)."""
    clock.now = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    return clock


@pytest.mark.parametrize("classification", list(Classification))
def test_a_label_of_every_class_has_no_subject_and_no_classification_word(
        ctx: Ctx, network: Network, before_2026: Clock, classification: Classification
) -> None:
    envelope = register(ctx, network, classification=classification, subject=SUBJECT,
                        subject_approved_by="Bộ trưởng", recipient_name="Nguyễn Văn An",
                        is_addressee_only=True, service=ServiceClass.FLASH)
    assert envelope.has_subject
    for paper in (58, 80):
        options = LabelOptions(show_document_number=True)
        rendered = render_label(label_data(envelope, options), paper)
        text = "\n".join(rendered.lines)
        assert SUBJECT not in text
        for word in SUBJECT.split():
            assert word not in rendered.lines
        assert not FORBIDDEN.search(text), text
        assert envelope.number in rendered.lines
        assert FLASH_MARK in rendered.lines
        if classification.mark:
            assert rendered.lines[0] == classification.mark  # the letter, and nothing more
        else:
            assert not {"A", "B", "C"} & set(rendered.lines)
        inner = classification is Classification.TOP_SECRET
        # Tuyệt mật: the named recipient, the addressee-only stamp and the document number
        # belong on the inner envelope; the outer one is ordinary mail plus the letter A.
        assert (ADDRESSEE_ONLY in " ".join(rendered.lines)) is not inner
        assert any("Nguyễn Văn An" in line for line in rendered.lines) is not inner
        assert any("15/KH-BNV" in line for line in rendered.lines) is not inner

        # The subject does not move a single dot: change it and render again.
        pixels = rendered.image.tobytes()
        envelope.subject_ciphertext = SubjectCipher(SUBJECT_KEY).encrypt("Một trích yếu khác")
        again = render_label(label_data(envelope, options), paper)
        assert again.image.tobytes() == pixels
        envelope.subject_ciphertext = None
        assert render_label(label_data(envelope, options), paper).image.tobytes() == pixels
    ctx.session.rollback()


def test_label_data_has_no_field_for_a_subject_or_a_classification() -> None:
    fields = set(LabelData.__dataclass_fields__)
    assert not {f for f in fields if "subject" in f or "classif" in f or "trich" in f}


def test_the_document_number_is_off_by_default_and_never_outside_a_top_secret_item(
        ctx: Ctx, network: Network) -> None:
    secret = register(ctx, network, classification=Classification.SECRET)
    top = register(ctx, network, classification=Classification.TOP_SECRET)
    assert label_data(secret).document_number is None
    assert label_data(secret, LabelOptions(show_document_number=True)).document_number
    assert label_data(top, LabelOptions(show_document_number=True)).document_number is None


def test_a_timed_item_shows_the_agreed_time_in_vietnam_time(ctx: Ctx, network: Network,
                                                            clock: Clock) -> None:
    agreed = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội
    envelope = register(ctx, network, service=ServiceClass.TIMED, agreed_at=agreed)
    lines = render_label(label_data(envelope), 80).lines
    assert TIMED_MARK in lines and "09:30 25/11/2026" in lines
    assert envelope.register_number in " ".join(lines)


def sample(**kw: object) -> LabelData:
    base: dict[str, object] = dict(
        number="KT123456785VN", mark="A", service="standard", sender="Bộ Nội vụ",
        recipient="UBND thành phố Hồ Chí Minh", recipient_address="86 Lê Thánh Tôn",
        register_number="2026/000123")
    base.update(kw)
    return LabelData(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("paper", "dots", "module"), [(58, 384, 2), (80, 576, 3)])
def test_labels_are_pure_black_and_white_at_the_paper_width_with_whole_dot_bars(
        paper: int, dots: int, module: int) -> None:
    rendered = render_label(sample(), paper)
    image = rendered.image
    assert image.mode == "1" and image.width == dots
    histogram = image.convert("L").histogram()
    assert sum(histogram[1:255]) == 0  # no grey dot for the printer to dither
    code = next(b for b in rendered.document.blocks if isinstance(b, Code128))
    assert code.module == module
    # read one row of the drawn strip back into modules: every bar edge on a whole dot
    row_y = code.drawn.height // 2
    row = [code.drawn.getpixel((x, row_y)) for x in range(dots)]
    first = row.index(0)
    last = dots - 1 - row[::-1].index(0)
    bars = row[first:last + 1]
    assert len(bars) % module == 0
    modules = "".join("1" if bars[i] == 0 else "0" for i in range(0, len(bars), module))
    assert all(bars[i] == bars[i - i % module] for i in range(len(bars)))
    assert modules == code128_pattern("KT123456785VN")
    assert first >= 10 * module and dots - 1 - last >= 10 * module  # quiet zones
    assert any(isinstance(b, QRCode) for b in rendered.document.blocks)


def test_the_png_preview_is_one_bit_at_203_dpi(tmp_path: object) -> None:
    import io

    png = Image.open(io.BytesIO(render_label(sample(), 58).png()))
    assert png.mode == "1" and png.size[0] == 384
    assert round(png.info["dpi"][0]) == 203


def test_vietnamese_letters_come_from_the_font_shipped_in_the_package() -> None:
    assert REGULAR.is_file() and BOLD.is_file() and LICENSE.is_file()
    assert "kt1/static/fonts" in REGULAR.as_posix()
    assert "Bitstream" in LICENSE.read_text() and "DejaVu" in LICENSE.read_text()
    missing = font(40).getmask("\U000e0001").getbbox()  # a code point no font draws
    for letter in "ỎỐĐƯỜẸẬỹữặẩ":
        mask = font(40).getmask(letter)
        assert mask.getbbox() is not None and mask.getbbox() != missing, letter
        bold = font(40, bold=True).getmask(letter)
        assert bold.getbbox() is not None, letter


def test_long_names_wrap_inside_the_label_and_nothing_is_cut() -> None:
    long = "Văn phòng Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu và các cơ quan trực thuộc"
    for paper in (58, 80):
        rendered = render_label(sample(recipient=long, sender=long), paper)
        words = " ".join(rendered.lines).split()
        for word in long.split():
            assert word in words
        for item in rendered.layout.items:
            if hasattr(item, "text"):
                width = font(item.size, item.bold).getlength(item.text)
                assert item.x >= 0 and item.x + width <= rendered.layout.width


def test_a_plain_kt1_item_has_no_letter() -> None:
    lines = render_label(sample(mark=None), 80).lines
    assert lines[0] == "KT1" and not {"A", "B", "C"} & set(lines)


@pytest.mark.parametrize("classification", list(Classification))
def test_a_label_never_shows_the_drafter_the_signer_or_the_classification_basis(
        ctx: Ctx, network: Network, classification: Classification) -> None:
    """Provenance (docs/domain.md §8) is internal: on the pages of those who may see the
    envelope, never outside it."""
    provenance = {"drafter_name": "Hoàng Soạn Thảo", "signer_name": "Lương Ký Tên",
                  "signer_title": "Thứ trưởng Thường trực",
                  "classification_basis": "Khoản 7 Điều 3 Danh mục XYZ-CANARY"}
    envelope = register(ctx, network, classification=classification, **provenance)
    assert envelope.signer_name == "Lương Ký Tên"
    fields = set(LabelData.__dataclass_fields__)
    assert not {f for f in fields if any(w in f for w in ("draft", "sign", "basis"))}
    words = {w for value in provenance.values() for w in value.split() if len(w) > 3}
    for paper in (58, 80):
        rendered = render_label(label_data(envelope, LabelOptions(show_document_number=True)),
                                paper)
        text = "\n".join(rendered.lines)
        for value in provenance.values():
            assert value not in text
        assert not words & set(text.split()), words & set(text.split())


@pytest.mark.parametrize("classification", [Classification.TOP_SECRET,
                                            Classification.CONFIDENTIAL])
def test_a_copys_label_shows_its_copy_number_and_nothing_secret(
        ctx: Ctx, network: Network, before_2026: Clock, classification: Classification
) -> None:
    """A copy (docs/domain.md §8) is labelled "Bản số n/N" like any other item: its own
    number, the letter, and still no subject or classification word; an original has none."""
    from kt1.services.copies import make_copies

    original = register(ctx, network, classification=classification, subject=SUBJECT,
                        subject_approved_by="Bộ trưởng")
    copies = make_copies(ctx, network["vt_bnv"], original.number, approved_by="head_bnv",
                         count=3)
    assert label_data(original).copy_label is None
    for paper in (58, 80):
        assert not any("Bản số" in line for line in render_label(
            label_data(original), paper).lines)
        rendered = render_label(label_data(copies[1], LabelOptions(show_document_number=True)),
                                paper)
        text = "\n".join(rendered.lines)
        assert "Bản số 2/3" in rendered.lines
        assert copies[1].number in rendered.lines and original.number not in text
        assert SUBJECT not in text and not FORBIDDEN.search(text), text
        for word in SUBJECT.split():
            assert word not in rendered.lines
        if classification.mark:
            assert rendered.lines[0] == classification.mark
        # the barcodes decode to the copy's own number and nothing else
        codes = [b.data for b in rendered.document.blocks if isinstance(b, Code128 | QRCode)]
        assert len(codes) == 2 and set(codes) == {copies[1].number}
    ctx.session.rollback()


@pytest.mark.parametrize(("urgency", "service", "expected"), [
    ("urgent", ServiceClass.STANDARD, ["KHẨN"]),
    ("very_urgent", ServiceClass.STANDARD, ["THƯỢNG KHẨN"]),
    ("flash", ServiceClass.STANDARD, [FLASH_MARK]),
    ("flash", ServiceClass.FLASH, [FLASH_MARK]),  # once, not twice
    ("urgent", ServiceClass.FLASH, [FLASH_MARK, "KHẨN"]),
])
def test_the_urgency_mark_is_on_the_label_once(
        ctx: Ctx, network: Network, urgency: str, service: ServiceClass,
        expected: list[str]) -> None:
    envelope = register(ctx, network, urgency=urgency, service=service,
                        classification=Classification.TOP_SECRET)
    for paper in (58, 80):
        lines = render_label(label_data(envelope), paper).lines
        marks = [line for line in lines if line in {"KHẨN", "THƯỢNG KHẨN", FLASH_MARK}]
        assert marks == expected, lines
        assert not FORBIDDEN.search("\n".join(lines))


def test_a_plain_envelope_has_no_urgency_mark(ctx: Ctx, network: Network) -> None:
    lines = render_label(label_data(register(ctx, network)), 80).lines
    assert not {"KHẨN", "THƯỢNG KHẨN", FLASH_MARK} & set(lines)
