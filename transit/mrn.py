"""The Movement Reference Number (MRN) of a transit movement, given on release for transit.

Eighteen characters, as NCTS prints them::

    26 TM TMA01 0000014 J 9
    │  │  │     │       │ └ check character: ISO 6346 over the 17 characters before it
    │  │  │     │       └── procedure category (NCTS phase 5): J, a transit declaration alone
    │  │  │     └────────── serial of the office in the year, zero-padded to fill the 12 characters
    │  │  └──────────────── office of departure code, as given
    │  └─────────────────── country of the office (ISO 3166 alpha-2)
    └────────────────────── last two digits of the year

The NCTS phase 5 schemas (``MRNType`` in ``stypes.xsd``) require the procedure category letter (J to M)
in the 17th place of every MRN of 2024 and later; MRNs of earlier years had 13 free characters there.
``mrn_make(procedure_category=None)`` writes that older layout (office code and serial filling all 13).

Validation accepts both layouts: any two digits, two letters, 13 letters or digits and a check digit that
matches. Input is case-insensitive and may carry spaces (as printed or typed).

Pure Python, no Django: the offline verify command and the XML import use it too.
"""

import re

MRN_LENGTH = 18
# Procedure category of NCTS phase 5 (17th character). J: a transit declaration alone; K, L and M combine
# it with exit and/or entry summary declarations (security data), which Kerwen does not lodge.
PROCEDURE_CATEGORIES = "JKLM"
TRANSIT_ONLY = "J"

_MRN = re.compile(r"^[0-9]{2}[A-Z]{2}[A-Z0-9]{13}[0-9]$")
_FIRST17 = re.compile(r"^[0-9]{2}[A-Z]{2}[A-Z0-9]{13}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_OFFICE_CODE = re.compile(r"^[A-Z0-9]+$")
_WHITESPACE = re.compile(r"\s+")


def _iso6346_values() -> dict[str, int]:
    """Digits are worth themselves; letters count up from A = 10, skipping 11, 22 and 33 (multiples of
    11, which would vanish modulo 11)."""
    values = {str(digit): digit for digit in range(10)}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


CHARACTER_VALUES = _iso6346_values()


def iso6346_check_digit(text: str) -> str:
    """The ISO 6346 check digit of ``text`` (upper-case letters and digits): each character's value
    times 2 to the power of its position (0 for the first), summed, modulo 11, then modulo 10 (a
    remainder of 10 gives 0). The freight-container check digit, which NCTS uses for the MRN."""
    try:
        total = sum(CHARACTER_VALUES[character] << position for position, character in enumerate(text))
    except KeyError as error:
        raise ValueError(f"{text!r}: only upper-case letters A-Z and digits have a check value") from error
    return str(total % 11 % 10)


def mrn_check_character(first17: str) -> str:
    """The check character (a digit) of an MRN whose first 17 characters are ``first17``."""
    if not _FIRST17.match(first17):
        raise ValueError(
            f"{first17!r} is not the start of an MRN: expected 2 digits, 2 letters and 13 letters or digits"
        )
    return iso6346_check_digit(first17)


def mrn_make(
    *,
    year: int,
    country: str,
    office_code: str,
    serial: int,
    procedure_category: str | None = TRANSIT_ONLY,
) -> str:
    """The MRN of the ``serial``-th movement released by ``office_code`` in ``year`` (a four-digit
    calendar year). Raises ``ValueError`` with the reason when a part is malformed or the office code and
    the serial do not fit in the space the layout leaves them (12 characters, 13 without a procedure
    category)."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year!r}: expected a four-digit calendar year, e.g. 2026")
    country = country.upper()
    if not _COUNTRY.match(country):
        raise ValueError(f"country {country!r}: expected an ISO 3166 alpha-2 code, two letters")
    office_code = office_code.upper()
    if not _OFFICE_CODE.match(office_code):
        raise ValueError(f"office code {office_code!r}: expected letters and digits only")
    if procedure_category is not None and procedure_category not in PROCEDURE_CATEGORIES:
        raise ValueError(f"procedure category {procedure_category!r}: expected one of J, K, L, M or None")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise ValueError(f"serial {serial!r}: expected a whole number, 0 or more")
    space = 13 - (1 if procedure_category else 0)
    serial_width = space - len(office_code)
    if serial_width < 1 or len(str(serial)) > serial_width:
        largest = f"at most {10**serial_width - 1}" if serial_width >= 1 else "no room for any serial"
        raise ValueError(
            f"office code {office_code!r} and serial {serial} do not fit in the {space} characters of an "
            f"MRN: with this office code the serial can be {largest}"
        )
    first17 = f"{year % 100:02d}{country}{office_code}{serial:0{serial_width}d}{procedure_category or ''}"
    return first17 + mrn_check_character(first17)


def mrn_normalise(text: str) -> str:
    """``text`` as an MRN is stored and compared: upper case, without spaces or other whitespace. Does not
    validate; use ``mrn_valid`` for that."""
    return _WHITESPACE.sub("", text).upper()


def mrn_valid(text) -> bool:
    """Whether ``text`` is a well-formed MRN whose check character matches (case and spaces ignored).

    What the check catches, as ISO 6346 defines it (NCTS does not change it): when the check character is
    1 to 9, every change of one digit for another and every swap of two neighbouring digits. It misses a
    change between two characters whose values differ by a multiple of 11 (A and K, 1 and B, J and T...),
    and, because remainders 10 and 0 both give the check character 0, some changes of an MRN ending in 0."""
    if not isinstance(text, str):
        return False
    mrn = mrn_normalise(text)
    return bool(_MRN.match(mrn)) and mrn[17] == iso6346_check_digit(mrn[:17])
