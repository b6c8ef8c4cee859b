"""S10 item numbers (docs/domain.md §6): check digit, formatting, parsing and allocation.

Expected check digits below are worked out by hand from the rule in docs/domain.md §6, not by
calling the code: weights 8 6 4 2 3 5 9 7 over the 8-digit serial, S = the weighted sum,
C = 11 - (S mod 11), then 10 -> 0 and 11 -> 5.
"""

from __future__ import annotations

import pytest

from kt1.errors import (
    CheckDigitError,
    KT1Error,
    NumberCountryError,
    NumberLengthError,
    NumberLettersError,
    NumberSerialError,
)
from kt1.services.context import Ctx
from kt1.services.identifiers import (
    ItemNumber,
    allocate_number,
    check_digit,
    format_number,
    parse_number,
)

HAND_COMPUTED = [
    # serial, check digit  -- working
    # docs/domain.md's example RR000000080VN: S = 8*7 = 56; 56 mod 11 = 1; C = 10 -> 0
    ("00000008", 0),
    # the UPU S10 example serial (RA473124829GB): S = 4*8 + 7*6 + 3*4 + 1*2 + 2*3 + 4*5
    # + 8*9 + 2*7 = 32+42+12+2+6+20+72+14 = 200; 200 mod 11 = 2; C = 9
    ("47312482", 9),
    # S = 0; 0 mod 11 = 0; C = 11 -> 5
    ("00000000", 5),
    # S = 1*8 + 1*3 = 11; 11 mod 11 = 0; C = 11 -> 5
    ("10001000", 5),
    # S = 8+12+12+8+15+30+63+56 = 204; 204 mod 11 = 6 (198 = 18*11); C = 5 (a plain 5)
    ("12345678", 5),
    # S = 1*7 = 7; C = 11 - 7 = 4
    ("00000001", 4),
    # S = 1*9 = 9; C = 2
    ("00000010", 2),
    # S = 2*6 = 12; 12 mod 11 = 1; C = 10 -> 0
    ("02000000", 0),
    # S = 3*7 = 21; 21 mod 11 = 10; C = 1
    ("00000003", 1),
    # S = 9 * (8+6+4+2+3+5+9+7) = 9*44 = 396 = 36*11; C = 11 -> 5
    ("99999999", 5),
]


@pytest.mark.parametrize(("serial", "expected"), HAND_COMPUTED)
def test_the_check_digit_follows_the_weighted_mod_11_rule(serial: str, expected: int) -> None:
    assert check_digit(serial) == expected
    assert check_digit(int(serial)) == expected


def test_the_example_in_the_domain_notes_is_a_valid_number() -> None:
    number = parse_number("RR000000080VN", "RR", "VN")
    assert number == ItemNumber("RR", 8, 0, "VN")
    assert str(number) == "RR000000080VN"


@pytest.mark.parametrize(("serial", "expected"), HAND_COMPUTED)
def test_a_formatted_number_parses_back_to_the_same_serial(serial: str, expected: int) -> None:
    text = format_number("KT", int(serial), "VN")
    assert text == f"KT{serial}{expected}VN"
    assert len(text) == 13
    parsed = parse_number(text, "KT", "VN")
    assert (parsed.letters, parsed.serial, parsed.check, parsed.country) == (
        "KT", int(serial), expected, "VN")
    assert str(parsed) == text


def test_a_serial_longer_than_eight_digits_has_no_check_digit() -> None:
    with pytest.raises(ValueError, match="8 digits"):
        check_digit(100_000_000)


@pytest.mark.parametrize("raw", [
    "  kt473124829vn  ",
    "kt473124829VN",
    "\tKT473124829VN\r\n",
    "Kt473124829vN",
])
def test_lower_case_and_surrounding_whitespace_from_a_scanner_are_accepted(raw: str) -> None:
    assert str(parse_number(raw, "KT", "VN")) == "KT473124829VN"


@pytest.mark.parametrize(("raw", "length"), [
    ("", 0),
    ("KT47312482VN", 12),  # check digit dropped
    ("KT4731248299VN", 14),  # a digit doubled
    ("KT 47312482 9VN", 15),  # whitespace inside is not forgiven
])
def test_a_number_of_the_wrong_length_is_refused_with_its_length(raw: str, length: int) -> None:
    with pytest.raises(NumberLengthError) as exc:
        parse_number(raw, "KT", "VN")
    assert exc.value.slug == "number_length_invalid"
    assert exc.value.details == {"length": length}


def test_a_none_value_is_refused_as_a_wrong_length_not_a_crash() -> None:
    with pytest.raises(NumberLengthError) as exc:
        parse_number(None, "KT", "VN")  # type: ignore[arg-type]
    assert exc.value.slug == "number_length_invalid"


@pytest.mark.parametrize("raw", ["RR473124829VN", "EE473124829VN", "12473124829VN"])
def test_a_number_with_other_service_letters_is_refused(raw: str) -> None:
    with pytest.raises(NumberLettersError) as exc:
        parse_number(raw, "KT", "VN")
    assert exc.value.slug == "number_letters_invalid"
    assert exc.value.details == {"expected": "KT"}


@pytest.mark.parametrize("raw", ["KT473124829GB", "KT473124829V1", "KT4731248290N"])
def test_a_number_from_another_country_is_refused(raw: str) -> None:
    with pytest.raises(NumberCountryError) as exc:
        parse_number(raw, "KT", "VN")
    assert exc.value.slug == "number_country_invalid"
    assert exc.value.details == {"expected": "VN"}


@pytest.mark.parametrize("raw", [
    "KT47312482OVN",  # letter O in place of the zero check digit
    "KT4731I4829VN",  # letter I in place of a 2
    "KT-73124829VN",
    "KT" + "٤٧٣١٢٤٨٢٩" + "VN",  # Arabic-Indic digits: str.isdigit() says yes
    "KT" + "４７３１２４８２９" + "VN",  # full-width digits from an IME
])
def test_a_serial_with_anything_but_ascii_digits_is_refused(raw: str) -> None:
    assert len(raw.strip()) == 13
    with pytest.raises(NumberSerialError) as exc:
        parse_number(raw, "KT", "VN")
    assert exc.value.slug == "number_serial_invalid"


@pytest.mark.parametrize("wrong", [d for d in range(10) if d != 9])
def test_every_wrong_check_digit_is_refused(wrong: int) -> None:
    raw = f"KT47312482{wrong}VN"
    with pytest.raises(CheckDigitError) as exc:
        parse_number(raw, "KT", "VN")
    assert exc.value.slug == "check_digit_invalid"
    assert exc.value.details == {"number": raw}


def _missed_typos(serial: str, check: int) -> set[str]:
    """Every single-digit typo of ``serial`` that still passes the check digit."""
    missed = set()
    for pos in range(8):
        for digit in "0123456789":
            if digit != serial[pos]:
                typo = serial[:pos] + digit + serial[pos + 1:]
                try:
                    parse_number(f"KT{typo}{check}VN", "KT", "VN")
                    missed.add(typo)
                except CheckDigitError:
                    pass
    return missed


def test_a_single_digit_typo_changes_the_check_digit_unless_it_folds_onto_5() -> None:
    # Changing one digit by d changes S by w*d, never a multiple of 11 (11 is prime, w and
    # d are 1..9), so 11 - (S mod 11) always changes. The typo slips through only when the
    # fold makes two values print alike: 11 -> 5 collides with a plain 5.
    # 47312482 has C = 9 (S mod 11 = 2): no typo can produce 9 again.
    assert _missed_typos("47312482", 9) == set()
    # 12345678 has a plain C = 5 (S = 204, S mod 11 = 6). A typo is missed when the new S
    # is a multiple of 11, i.e. w*d = 5 (mod 11), d = 5 * w^-1 (mod 11):
    #   w=8 (inverse 7): d = 2 -> 1 becomes 3     w=6 (inv 2): d = -1 -> 2 becomes 1
    #   w=4 (inv 3): d = 4 -> 3 becomes 7         w=2 (inv 6): d = -3 -> 4 becomes 1
    #   w=3 (inv 4): d = -2 -> 5 becomes 3        w=5 (inv 9): d = 1 -> 6 becomes 7
    #   w=9 (inv 5): d = 3 or -8 -> 7 has no room w=7 (inv 8): d = -4 -> 8 becomes 4
    # So 7 of its 72 single-digit typos pass: the reason every number is also looked up.
    assert _missed_typos("12345678", 5) == {
        "32345678", "11345678", "12745678", "12315678", "12343678", "12345778", "12345674",
    }


def test_the_errors_say_which_part_is_wrong_in_both_languages() -> None:
    errors: list[KT1Error] = []
    for raw in ("KT1VN", "RR473124829VN", "KT473124829GB", "KT47312482XVN", "KT473124820VN"):
        with pytest.raises(KT1Error) as exc:
            parse_number(raw, "KT", "VN")
        errors.append(exc.value)
    assert [e.slug for e in errors] == [
        "number_length_invalid", "number_letters_invalid", "number_country_invalid",
        "number_serial_invalid", "check_digit_invalid",
    ]
    assert all(e.status == 422 for e in errors)
    assert "5" in errors[0].message and "5" in errors[0].message_local
    assert "KT" in errors[1].message and "VN" in errors[2].message
    assert "KT473124820VN" in errors[4].message_local


# ----------------------------------------------------------- allocation (real database)


def test_allocated_numbers_never_repeat_and_all_pass_their_own_check(ctx: Ctx) -> None:
    letters, country = ctx.settings.service_letters, ctx.settings.country_code
    seen: list[str] = []
    for _batch in range(5):
        for _ in range(20):
            seen.append(allocate_number(ctx.session, letters, country))
        ctx.session.commit()
    assert len(set(seen)) == 100
    serials = [parse_number(n, letters, country).serial for n in seen]
    assert serials == sorted(serials)
    assert serials[0] >= 1


def test_a_rolled_back_allocation_is_not_handed_out_twice_after_commit(ctx: Ctx) -> None:
    letters, country = ctx.settings.service_letters, ctx.settings.country_code
    first = allocate_number(ctx.session, letters, country)
    ctx.session.commit()
    allocate_number(ctx.session, letters, country)
    ctx.session.rollback()  # nothing used it: the serial may come back, once
    second = allocate_number(ctx.session, letters, country)
    third = allocate_number(ctx.session, letters, country)
    ctx.session.commit()
    assert len({first, second, third}) == 3
