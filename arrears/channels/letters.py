"""Printed letters, the channel side: the CSV mailing list for the post office (one row per
letter, UTF-8 with BOM) and reading postcodes out of addresses.

The letters themselves are documents: built by arrears.services.documents.letters and rendered to
PDF by arrears.documents (the sibling layers channels and documents do not import each other).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MAILING_COLUMNS = ("reference", "recipient", "address", "postcode", "unit", "mail_class", "tracking_number")


@dataclass(frozen=True)
class MailingRow:
    reference: str
    recipient: str
    address: str
    unit: str
    mail_class: str = "挂号"  # registered letter; "EMS" for demands
    postcode: str = field(default="")
    tracking_number: str = ""  # filled in by hand after posting


_POSTCODE_LABELLED = re.compile(r"邮编\s*[:：]?\s*(\d{6})(?!\d)")
_POSTCODE_EDGE = re.compile(r"^\s*[（(]?(\d{6})[)）]?(?!\d)|(?<!\d)[（(]?(\d{6})[)）]?\s*$")


def parse_postcode(address: str) -> str:
    """A six-digit postcode labelled 邮编 or standing at the start or end of the address, else ''."""
    match = _POSTCODE_LABELLED.search(address)
    if match:
        return match.group(1)
    match = _POSTCODE_EDGE.search(address)
    return (match.group(1) or match.group(2)) if match else ""


def mailing_list_csv(rows: Sequence[MailingRow]) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs show the Chinese), one row per letter."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MAILING_COLUMNS)
    for row in rows:
        postcode = row.postcode or parse_postcode(row.address)
        writer.writerow([row.reference, row.recipient, row.address.replace("\n", " "), postcode, row.unit,
                         row.mail_class, row.tracking_number])
    return buffer.getvalue().encode("utf-8-sig")
