"""Identity documents of owners: validation, birth dates, masking (L18, L15, L11).

Resident IDs and unified social credit codes are checksum-validated; other documents are format
checked. Messages are English; the caller translates them.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from stdnum.cn import ric

from .calendar import add_years


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_ID = "foreign_permanent_id"
    USCC = "uscc"
    ORG_CODE = "org_code"


class IdentifierError(ValueError):
    """An identity-document number that fails its format or checksum."""


# GB/T 2260 province-level codes. The county part is not checked: IDs keep the code of the
# county where they were first issued, and county codes are renamed and retired over time.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64"}
    | {"65"}
)
_HMT_PREFIXES = ("810000", "820000", "830000")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_PATTERNS = {
    IdType.PASSPORT: (
        re.compile(r"[A-Z0-9]{5,20}"),
        "passport number must be 5–20 letters or digits",
    ),
    IdType.HK_MACAO_PERMIT: (
        re.compile(r"[HM]\d{8}(\d{2})?"),
        "Hong Kong/Macao permit number must be H or M followed by 8 or 10 digits",
    ),
    IdType.TAIWAN_PERMIT: (
        re.compile(r"\d{8}(\d{2})?"),
        "Taiwan permit number must be 8 (or 10) digits",
    ),
}
_EIGHTEEN = re.compile(r"\d{17}[\dX]")
_OLD_FOREIGN = re.compile(r"[A-Z]{3}\d{12}")
_USCC_FORMAT = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_ORG_FORMAT = re.compile(r"[0-9A-Z]{8}[0-9X]")


def normalize_id(id_type: IdType, number: str) -> str:
    """The number in canonical form (no spaces, upper case, hyphens removed where they are only
    separators), validated for its type; raises ``IdentifierError`` (L18)."""
    text = _compact(number, hyphens=id_type is not IdType.PASSPORT)
    if not text:
        raise IdentifierError("identity number is empty")
    if id_type in _PATTERNS:
        pattern, message = _PATTERNS[id_type]
        if not pattern.fullmatch(text):
            raise IdentifierError(message)
        return text
    return _VALIDATORS[id_type](text)


def _compact(number: str, *, hyphens: bool) -> str:
    separators = r"[\s\u3000\-]" if hyphens else r"[\s\u3000]"
    return re.sub(separators, "", number).upper()


def _resident_id(text: str) -> str:
    _check_eighteen(text, "resident ID number")
    if text[:2] not in _PROVINCES:
        raise IdentifierError("resident ID number has an unknown province code")
    return text


def _hmt_permit(text: str) -> str:
    _check_eighteen(text, "Hong Kong/Macao/Taiwan residence permit number")
    if not text.startswith(_HMT_PREFIXES):
        raise IdentifierError("residence permit number must start with 810000, 820000 or 830000")
    return text


def _foreign_permanent(text: str) -> str:
    if _OLD_FOREIGN.fullmatch(text):
        return text
    if len(text) == 18 and text.startswith("9"):
        _check_eighteen(text, "foreign permanent residence ID number")
        return text
    raise IdentifierError(
        "foreign permanent residence ID number must be 18 characters starting with 9 "
        "or 3 letters and 12 digits"
    )


def _check_eighteen(text: str, what: str) -> None:
    """Length, digits, ISO 7064 MOD 11-2 checksum and birth date (GB 11643)."""
    if len(text) != 18:
        raise IdentifierError(f"{what} must have 18 characters")
    if not _EIGHTEEN.fullmatch(text):
        raise IdentifierError(f"{what} must be 17 digits followed by a digit or X")
    if ric.calc_check_digit(text) != text[-1]:
        raise IdentifierError(f"{what} checksum does not match (check the last character)")
    if _birth_date(text) is None:
        raise IdentifierError(f"{what} contains an invalid birth date")


def _uscc(text: str) -> str:
    if len(text) != 18:
        raise IdentifierError("unified social credit code must have 18 characters")
    if not _USCC_FORMAT.fullmatch(text):
        raise IdentifierError(
            "unified social credit code has an invalid character (I, O, Z, S and V are never used; "
            "characters 3–8 are digits)"
        )
    if uscc_check_char(text[:17]) != text[-1]:
        raise IdentifierError("unified social credit code checksum does not match")
    return text


def uscc_check_char(body: str) -> str:
    """GB 32100-2015 check character for the first 17 characters (any first character, unlike
    python-stdnum's ``cn.uscc.validate``, which rejects valid codes starting with a letter)."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _org_code(text: str) -> str:
    if not _ORG_FORMAT.fullmatch(text):
        raise IdentifierError(
            "organisation code must be 8 letters or digits and a check digit (XXXXXXXX-X)"
        )
    if org_code_check_char(text[:8]) != text[-1]:
        raise IdentifierError("organisation code checksum does not match")
    return text


def org_code_check_char(body: str) -> str:
    """GB 11714-1997 check character for the first 8 characters."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


_VALIDATORS = {
    IdType.RESIDENT_ID: _resident_id,
    IdType.HMT_RESIDENCE_PERMIT: _hmt_permit,
    IdType.FOREIGN_PERMANENT_ID: _foreign_permanent,
    IdType.USCC: _uscc,
    IdType.ORG_CODE: _org_code,
}
_CARRIES_BIRTH_DATE = (IdType.RESIDENT_ID, IdType.HMT_RESIDENCE_PERMIT, IdType.FOREIGN_PERMANENT_ID)


def _birth_date(text: str) -> date | None:
    try:
        return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None


def birth_date_from_id(id_type: IdType, number: str) -> date | None:
    """The birth date an 18-character resident ID, HMT residence permit or 2023-format foreign
    permanent residence ID carries (characters 7–14); None for other documents (L15, L18)."""
    text = normalize_id(id_type, number)
    if id_type in _CARRIES_BIRTH_DATE and len(text) == 18:
        return _birth_date(text)
    return None


def is_minor(birth_date: date, on: date) -> bool:
    """Under 18 on ``on`` (L15: minors are never proposed for the dishonest-debtor list).

    Conservative: an age is reached only from the day after the birthday (SPC interpretation on
    juvenile criminal cases, art. 2: "从周岁生日的第二天起算"), so a person still counts as a minor
    on the 18th birthday itself.
    """
    return on <= add_years(birth_date, 18)


_CHINA = frozenset({"CN", "CHN", "中国", "中华人民共和国", "CHINA"})
_HMT_DOCUMENTS = (IdType.HK_MACAO_PERMIT, IdType.TAIWAN_PERMIT, IdType.HMT_RESIDENCE_PERMIT)


def is_foreign_related(id_type: IdType, nationality: str | None) -> bool:
    """True for a foreign national or a holder of a Hong Kong, Macao or Taiwan document (L11:
    such cases are excluded from small claims). A passport without a known nationality counts
    as foreign so that an unsure case is never pushed into small claims."""
    if id_type in _HMT_DOCUMENTS or id_type is IdType.FOREIGN_PERMANENT_ID:
        return True
    if id_type is IdType.PASSPORT:
        return nationality is None or nationality.strip().upper() not in _CHINA
    return False


def mask_id(number: str) -> str:
    """Mask an ID number for display (L18): keep the first 3 and last 4 characters
    (110***********1234); numbers shorter than 12 keep only their last 2."""
    text = _compact(number, hyphens=False)
    if len(text) >= 12:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    keep = 2 if len(text) > 2 else 0
    return "*" * (len(text) - keep) + text[len(text) - keep :]


def mask_phone(phone: str) -> str:
    """Mask a phone number (L18): hide the 4 characters before the last 4 (138****5678)."""
    text = re.sub(r"[\s\-()]", "", phone)
    if len(text) >= 8:
        return text[:-8] + "****" + text[-4:]
    keep = 2 if len(text) > 2 else 0
    return "*" * (len(text) - keep) + text[len(text) - keep :]
