"""Free text from users and devices (kt1.services.text)."""

from __future__ import annotations

import pytest

from kt1.errors import ValidationError
from kt1.services.text import clean_text


def test_a_report_keeps_its_line_breaks_and_a_browsers_crlf_becomes_lf() -> None:
    text = "Dây niêm bị đứt.\r\nKẹp chì có dấu cạy.\rĐã lập biên bản."
    assert clean_text(text, "report", 2000, multiline=True) == (
        "Dây niêm bị đứt.\nKẹp chì có dấu cạy.\nĐã lập biên bản.")


@pytest.mark.parametrize("bad", ["a\x00b", "a\tb", "a\u202eb", "a\x1bb", "a\x85b"])
def test_other_control_and_format_characters_are_refused_even_in_a_report(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        clean_text(bad, "report", 2000, multiline=True)
    assert exc.value.details == {"field": "report", "reason": "contains control characters"}


def test_a_one_line_field_refuses_a_line_break() -> None:
    with pytest.raises(ValidationError) as exc:
        clean_text("Quầy\n3", "location", 200)
    assert exc.value.details["field"] == "location"
