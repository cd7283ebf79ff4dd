"""The MRN: layout, the ISO 6346 check character, validation on input. Pure Python, no database."""

import string

import pytest

from transit.mrn import (
    CHARACTER_VALUES,
    iso6346_check_digit,
    mrn_check_character,
    mrn_make,
    mrn_normalise,
    mrn_valid,
)

# 26TMTMA010000014J, by hand (value x 2**position, for positions 0 to 16):
#   2 6 T  M  T  M  A  0 1   0 0 0 0 0 1     4      J
#   2 6 31 24 31 24 10 0 1   0 0 0 0 0 1     4      20
#   2x1 + 6x2 + 31x4 + 24x8 + 31x16 + 24x32 + 10x64 + 1x256 + 1x16384 + 4x32768 + 20x65536
#   = 2 + 12 + 124 + 192 + 496 + 768 + 640 + 256 + 16384 + 131072 + 1310720 = 1460666
#   1460666 = 11 x 132787 + 9, so the remainder is 9 and 9 mod 10 = 9: the check character is 9.
EXAMPLE = "26TMTMA010000014J9"
ALPHANUMERIC = string.digits + string.ascii_uppercase


def test_letter_values_skip_multiples_of_eleven():
    assert CHARACTER_VALUES["A"] == 10
    assert CHARACTER_VALUES["B"] == 12
    assert CHARACTER_VALUES["K"] == 21
    assert CHARACTER_VALUES["L"] == 23
    assert CHARACTER_VALUES["U"] == 32
    assert CHARACTER_VALUES["V"] == 34
    assert CHARACTER_VALUES["Z"] == 38
    assert not any(value % 11 == 0 and value for value in CHARACTER_VALUES.values())


def test_check_digit_of_the_iso_6346_container_example():
    """The standard's own example, container CSQU 305438 3: the algorithm is ISO 6346's."""
    assert iso6346_check_digit("CSQU305438") == "3"


def test_hand_computed_check_character():
    assert mrn_check_character("26TMTMA010000014J") == "9"
    assert mrn_make(year=2026, country="TM", office_code="TMA01", serial=14) == EXAMPLE


def test_remainder_ten_gives_check_character_zero():
    # 26TMTMA010000009J: 1460666 - 4x32768 - 1x16384 + 9x32768 = 1608122 = 11 x 146192 + 10 -> 10 -> 0.
    assert mrn_check_character("26TMTMA010000009J") == "0"


def test_mrn_layout_phase_5():
    mrn = mrn_make(year=2025, country="kz", office_code="kz0401", serial=987654)
    assert mrn == "25KZKZ0401987654J0"
    assert len(mrn) == 18 and mrn_valid(mrn)


def test_mrn_layout_without_procedure_category_fills_13():
    assert mrn_make(year=2026, country="TM", office_code="TMA01", serial=14, procedure_category=None) == (
        "26TMTMA0100000014" + "6"
    )


def test_serial_is_zero_padded_to_fill_the_space():
    assert mrn_make(year=2026, country="TM", office_code="TMA01", serial=0)[4:16] == "TMA010000000"
    assert mrn_make(year=2026, country="TM", office_code="TMA01", serial=9_999_999)[4:16] == "TMA019999999"


def test_office_code_and_serial_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match=r"'TMA01' and serial 10000000 do not fit .* at most 9999999"):
        mrn_make(year=2026, country="TM", office_code="TMA01", serial=10_000_000)
    with pytest.raises(ValueError, match="no room for any serial"):
        mrn_make(year=2026, country="TM", office_code="ABCDEFGHIJKL", serial=1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"year": 26}, "four-digit calendar year"),
        ({"country": "TKM"}, "ISO 3166 alpha-2"),
        ({"office_code": "TM-01"}, "letters and digits only"),
        ({"serial": -1}, "0 or more"),
        ({"procedure_category": "A"}, "J, K, L, M"),
    ],
)
def test_malformed_parts_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        mrn_make(**({"year": 2026, "country": "TM", "office_code": "TMA01", "serial": 1} | arguments))


def test_check_character_needs_the_first_17_characters():
    with pytest.raises(ValueError, match="not the start of an MRN"):
        mrn_check_character("26TMTMA010000014")
    with pytest.raises(ValueError, match="not the start of an MRN"):
        mrn_check_character("2XTMTMA010000014J")


def test_valid_ignores_case_and_spaces():
    assert mrn_valid(EXAMPLE)
    assert mrn_valid("26tm tma01 0000014 j9")
    assert mrn_valid(" 26TM\tTMA010000014J9\n")
    assert mrn_normalise("26tm tma01 0000014 j9") == EXAMPLE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "26TMTMA010000014J",  # 17 characters
        "26TMTMA010000014J98",  # 19
        "2XTMTMA010000014J9",  # letter in the year
        "261MTMA010000014J9",  # digit in the country
        "26TMTMA010000014JX",  # letter as check character
        "26TMTMA01-000014J9",
        None,
        26,
    ],
)
def test_malformed_mrns_are_invalid(text):
    assert not mrn_valid(text)


def _single_changes(mrn: str):
    for position, original in enumerate(mrn):
        for replacement in ALPHANUMERIC:
            if replacement != original:
                yield position, original, replacement, mrn[:position] + replacement + mrn[position + 1 :]


def test_every_change_of_one_digit_is_detected():
    digit_changes = [
        changed
        for _position, original, replacement, changed in _single_changes(EXAMPLE)
        if original.isdigit() and replacement.isdigit()
    ]
    assert len(digit_changes) == 12 * 9  # 12 digits in 26TMTMA010000014J9
    assert [changed for changed in digit_changes if mrn_valid(changed)] == []


def test_every_swap_of_neighbouring_characters_is_detected():
    swaps = [
        EXAMPLE[:position] + EXAMPLE[position + 1] + EXAMPLE[position] + EXAMPLE[position + 2 :]
        for position in range(17)
        if EXAMPLE[position] != EXAMPLE[position + 1]
    ]
    assert [swap for swap in swaps if mrn_valid(swap)] == []


def test_single_changes_missed_are_exactly_the_iso_6346_blind_spots():
    """Any single changed character is detected, except a change between two characters whose values
    differ by a multiple of 11: the limit of ISO 6346 itself (NCTS lives with it)."""
    missed = [
        (position, original, replacement)
        for position, original, replacement, changed in _single_changes(EXAMPLE)
        if mrn_valid(changed)
    ]
    assert missed == [
        (2, "T", "J"),
        (3, "M", "C"),
        (3, "M", "W"),
        (4, "T", "9"),
        (4, "T", "J"),
        (5, "M", "2"),
        (5, "M", "C"),
        (5, "M", "W"),
        (6, "A", "K"),
        (6, "A", "U"),
        (8, "1", "B"),
        (8, "1", "L"),
        (8, "1", "V"),
        (14, "1", "B"),
        (14, "1", "L"),
        (14, "1", "V"),
        (15, "4", "E"),
        (15, "4", "O"),
        (15, "4", "Y"),
        (16, "J", "9"),
        (16, "J", "T"),
    ]
    for _position, original, replacement in missed:
        assert (CHARACTER_VALUES[original] - CHARACTER_VALUES[replacement]) % 11 == 0
    # Every other single change (of the 18 x 35 possible) is caught, by the format or the check character.
    assert len(list(_single_changes(EXAMPLE))) - len(missed) == 609


def test_a_check_character_of_zero_folds_remainders_ten_and_zero():
    """26TMTMA010000008J0 has remainder 0; changing its first digit 2 to 1 takes 1 off the sum, giving
    remainder 10, which also prints as 0: the one case where a digit change goes unnoticed."""
    mrn = mrn_make(year=2026, country="TM", office_code="TMA01", serial=8)
    assert mrn == "26TMTMA010000008J0"
    assert mrn_valid("1" + mrn[1:])


def test_every_made_mrn_is_valid():
    for serial in range(0, 2000, 7):
        assert mrn_valid(mrn_make(year=2026, country="AF", office_code="AFKBL", serial=serial))
