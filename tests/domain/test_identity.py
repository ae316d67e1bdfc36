"""identity: document validation and masking (L18), birth dates and minors (L15), foreign-related
owners (L11)."""

import re
from datetime import date

import pytest
from stdnum.cn import ric

from arrears.domain.identity import (
    IdentifierError,
    IdType,
    birth_date_from_id,
    is_foreign_related,
    is_minor,
    mask_id,
    mask_phone,
    normalize_id,
)

T = IdType
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def with_mod11_check(body17: str) -> str:
    """Append the ISO 7064 MOD 11-2 check character (GB 11643), computed independently."""
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body17))
    return body17 + "10X98765432"[total % 11]


def with_uscc_check(body17: str) -> str:
    """Append the GB 32100-2015 check character, computed independently (weights 3^i mod 31)."""
    total = sum(_USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body17))
    return body17 + _USCC_ALPHABET[-total % 31]


HMT_PERMIT = with_mod11_check("81000019900101123")
FOREIGN_NEW = with_mod11_check("93184019850315001")
USCC_LETTER_N = with_uscc_check("N2110000MEXXXXXXX")
USCC_LETTER_Y = with_uscc_check("Y1110000MA0123456")
ADULT_2008 = with_mod11_check("11010520080301001")


def test_independent_check_helpers_agree_with_known_numbers() -> None:
    assert with_mod11_check("11010519491231002") == "11010519491231002X"  # GB 11643 example
    assert with_mod11_check("36042619910101007") == "360426199101010071"
    assert with_uscc_check("91310000775785552") == "91310000775785552L"
    assert ric.calc_check_digit(HMT_PERMIT) == HMT_PERMIT[-1]


VALID = [
    (T.RESIDENT_ID, "360426199101010071", "360426199101010071"),
    (T.RESIDENT_ID, "11010519491231002x", "11010519491231002X"),
    (T.RESIDENT_ID, " 110105 19491231 002X ", "11010519491231002X"),  # spaces stripped first
    (T.RESIDENT_ID, "110105-19491231-002X", "11010519491231002X"),
    (T.PASSPORT, "E12345678", "E12345678"),
    (T.PASSPORT, "g 1234 5678", "G12345678"),
    (T.PASSPORT, "AB123", "AB123"),
    (T.HK_MACAO_PERMIT, "H12345678", "H12345678"),
    (T.HK_MACAO_PERMIT, "m 1234567890", "M1234567890"),
    (T.TAIWAN_PERMIT, "12345678", "12345678"),
    (T.TAIWAN_PERMIT, "1234567890", "1234567890"),
    (T.HMT_RESIDENCE_PERMIT, HMT_PERMIT, HMT_PERMIT),
    (T.FOREIGN_PERMANENT_ID, FOREIGN_NEW, FOREIGN_NEW),
    (T.FOREIGN_PERMANENT_ID, "usa310850315001", "USA310850315001"),
    (T.USCC, "91310000775785552L", "91310000775785552L"),
    (T.USCC, "9111 0000 6000 3734 1l", "91110000600037341L"),
    (T.USCC, USCC_LETTER_N, USCC_LETTER_N),
    (T.USCC, USCC_LETTER_Y, USCC_LETTER_Y),
    (T.ORG_CODE, "77578555-2", "775785552"),
    (T.ORG_CODE, "600037341", "600037341"),
]


@pytest.mark.parametrize(("id_type", "number", "normalized"), VALID)
def test_l18_valid_numbers(id_type: IdType, number: str, normalized: str) -> None:
    """L18: resident IDs and USCCs checksum-validated, other documents format-checked."""
    assert normalize_id(id_type, number) == normalized


INVALID = [
    (T.RESIDENT_ID, "360426199101010072", "checksum"),
    (T.RESIDENT_ID, "36042619910101007", "18 characters"),
    (T.RESIDENT_ID, "36042619910101007Y", "17 digits"),
    (T.RESIDENT_ID, with_mod11_check("99042619910101007"), "province"),
    (T.RESIDENT_ID, with_mod11_check("36042619911301007"), "birth date"),
    (T.RESIDENT_ID, "", "empty"),
    (T.PASSPORT, "E12", "5–20"),
    (T.PASSPORT, "E1234-5678", "5–20"),
    (T.HK_MACAO_PERMIT, "C12345678", "H or M"),
    (T.HK_MACAO_PERMIT, "H1234567", "H or M"),
    (T.TAIWAN_PERMIT, "123456789", "8 (or 10) digits"),
    (T.TAIWAN_PERMIT, "T1234567", "8 (or 10) digits"),
    (T.HMT_RESIDENCE_PERMIT, with_mod11_check("11010519900101123"), "810000"),
    (T.HMT_RESIDENCE_PERMIT, HMT_PERMIT[:-1] + ("0" if HMT_PERMIT[-1] != "0" else "1"), "checksum"),
    (
        T.FOREIGN_PERMANENT_ID,
        FOREIGN_NEW[:-1] + ("0" if FOREIGN_NEW[-1] != "0" else "1"),
        "checksum",
    ),
    (T.FOREIGN_PERMANENT_ID, "US310850315001", "starting with 9"),
    (T.USCC, "91310000775785552A", "checksum"),
    (T.USCC, "9131000077578555IL", "invalid character"),
    (T.USCC, "913100007757855", "18 characters"),
    (T.USCC, "91A10000775785552L", "invalid character"),
    (T.ORG_CODE, "77578555-3", "checksum"),
    (T.ORG_CODE, "7757855", "XXXXXXXX-X"),
]


@pytest.mark.parametrize(("id_type", "number", "message"), INVALID)
def test_l18_invalid_numbers(id_type: IdType, number: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=re.escape(message)):
        normalize_id(id_type, number)


def test_identifier_error_is_a_value_error() -> None:
    assert issubclass(IdentifierError, ValueError)


@pytest.mark.parametrize(
    ("id_type", "number", "birth"),
    [
        (T.RESIDENT_ID, "11010519491231002X", date(1949, 12, 31)),
        (T.HMT_RESIDENCE_PERMIT, HMT_PERMIT, date(1990, 1, 1)),
        (T.FOREIGN_PERMANENT_ID, FOREIGN_NEW, date(1985, 3, 15)),
        (T.FOREIGN_PERMANENT_ID, "USA310850315001", None),
        (T.PASSPORT, "E12345678", None),
        (T.USCC, "91310000775785552L", None),
    ],
)
def test_birth_date_from_id(id_type: IdType, number: str, birth: date | None) -> None:
    """L18/L15: the birth date the document carries (needed for the minors rule)."""
    assert birth_date_from_id(id_type, number) == birth


@pytest.mark.parametrize(
    ("birth", "on", "minor"),
    [
        (date(2008, 3, 1), date(2026, 2, 28), True),
        (date(2008, 3, 1), date(2026, 3, 1), True),  # the 18th birthday itself: still protected
        (date(2008, 3, 1), date(2026, 3, 2), False),
        (date(2008, 2, 29), date(2026, 2, 28), True),
        (date(2008, 2, 29), date(2026, 3, 1), False),
        (date(1949, 12, 31), date(2026, 1, 1), False),
    ],
)
def test_l15_is_minor(birth: date, on: date, minor: bool) -> None:
    """L15: never minors on the dishonest-debtor list."""
    assert is_minor(birth, on) is minor


def test_l15_minor_from_resident_id() -> None:
    birth = birth_date_from_id(T.RESIDENT_ID, ADULT_2008)
    assert birth == date(2008, 3, 1)
    assert is_minor(birth, date(2026, 1, 1))


@pytest.mark.parametrize(
    ("id_type", "nationality", "foreign"),
    [
        (T.RESIDENT_ID, None, False),
        (T.RESIDENT_ID, "CN", False),
        (T.PASSPORT, "CN", False),
        (T.PASSPORT, "chn", False),
        (T.PASSPORT, "中国", False),
        (T.PASSPORT, "US", True),
        (
            T.PASSPORT,
            None,
            True,
        ),  # unknown: treated as foreign-related (never forced into small claims)
        (T.HK_MACAO_PERMIT, "CN", True),
        (T.TAIWAN_PERMIT, None, True),
        (T.HMT_RESIDENCE_PERMIT, None, True),
        (T.FOREIGN_PERMANENT_ID, None, True),
        (T.USCC, None, False),
        (T.ORG_CODE, None, False),
    ],
)
def test_l11_is_foreign_related(id_type: IdType, nationality: str | None, foreign: bool) -> None:
    """L11: foreign nationals and holders of Hong Kong, Macao or Taiwan documents are excluded
    from small claims."""
    assert is_foreign_related(id_type, nationality) is foreign


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110105194912310021", "110***********0021"),
        ("91310000775785552L", "913***********552L"),
        ("E12345678", "*******78"),
        ("H12345678", "*******78"),
        ("AB", "**"),
        ("", ""),
    ],
)
def test_l18_mask_id(number: str, masked: str) -> None:
    """L18: ID numbers are masked everywhere except filing documents."""
    assert mask_id(number) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("021-62345678", "021****5678"),
        ("12345", "***45"),
    ],
)
def test_l18_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
