"""Printed letters, the channel side: postcodes read from addresses and the CSV mailing list.
(The letters' PDF rendering is tested in tests/documents.)"""

from __future__ import annotations

import csv
import io

import pytest

from arrears.channels.letters import (
    MAILING_COLUMNS,
    MailingRow,
    mailing_list_csv,
    parse_postcode,
)


@pytest.mark.parametrize(("address", "postcode"), [
    ("南京市鼓楼区中山路1号 邮编：210008", "210008"),
    ("210008 南京市鼓楼区中山路1号", "210008"),
    ("南京市鼓楼区中山路1号（210008）", "210008"),
    ("南京市鼓楼区中山路100号", ""),
    ("上海市浦东新区世纪大道1000001号", ""),
])
def test_postcode_is_parsed_only_when_unambiguous(address: str, postcode: str) -> None:
    assert parse_postcode(address) == postcode


def test_mailing_list_csv_columns_and_utf8() -> None:
    rows = [MailingRow("ARR-1", "张三", "南京市鼓楼区中山路1号\n阳光花园1幢101室 邮编 210008", "阳光花园 1-1-101", "EMS"),
            MailingRow("ARR-2", "李四", "南京市鼓楼区中山路2号", "阳光花园 1-1-102")]
    data = mailing_list_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(table[0]) == MAILING_COLUMNS == (
        "reference", "recipient", "address", "postcode", "unit", "mail_class", "tracking_number")
    assert table[1] == ["ARR-1", "张三", "南京市鼓楼区中山路1号 阳光花园1幢101室 邮编 210008", "210008",
                        "阳光花园 1-1-101", "EMS", ""]
    assert table[2] == ["ARR-2", "李四", "南京市鼓楼区中山路2号", "", "阳光花园 1-1-102", "挂号", ""]
