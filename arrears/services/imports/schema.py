"""The sheets of an import workbook and their columns: names, Chinese aliases, types, meaning.

This table is the single source for the reader (header matching), the validators (parsing),
the template workbook and docs/import-format.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cells, choices
from .cells import Parser


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    parse: Parser
    type_doc: str
    required: bool
    example: str
    doc: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.name, self.zh, *self.aliases)


@dataclass(frozen=True)
class Sheet:
    name: str
    zh: str
    doc: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})


def header_key(text: str) -> str:
    """Header text as matched: no spaces, case, '*' marks or bracketed notes (面积(㎡) = 面积)."""
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", text)
    return re.sub(r"[\s*＊]", "", text).lower()


def _choice(options: dict[str, str]) -> tuple[Parser, str]:
    return cells.choice(options), "choice: " + choices.spellings(options)


def col(name: str, zh: str, kind: str | tuple[Parser, str], required: bool, example: str, doc: str,
        *aliases: str) -> Column:
    parse, type_doc = _KINDS[kind] if isinstance(kind, str) else kind
    return Column(name, zh, parse, type_doc, required, example, doc, aliases)


_KINDS: dict[str, tuple[Parser, str]] = {
    "code": (cells.text(40), "text (≤ 40)"),
    "text": (cells.text(255), "text (≤ 255)"),
    "long": (cells.text(10000), "text"),
    "address": (cells.text(500), "text (≤ 500)"),
    "date": (cells.date, "date (2025-03-01, 2025/3/1 or a date cell)"),
    "money": (cells.money, "amount in yuan, at most 2 decimals"),
    "area": (cells.decimal(2), "decimal, at most 2 decimals"),
    "price": (cells.decimal(6), "decimal, at most 6 decimals"),
    "ratio": (cells.ratio(6), "rate: decimal 0.0005, percent 0.05%, per mille 0.5‰ or words 万分之五"),
    "int": (cells.integer, "whole number"),
    "flag": (cells.flag, "yes/no (是/否, true/false, 1/0)"),
    "period": (cells.period, "period label: 2025-03, 2025Q1, 2025H1 or 2025"),
    "periods": (cells.periods, "period labels separated by ; (2025-03;2025-04)"),
    "id_type": _choice(choices.ID_TYPE),
}

COMMUNITY_CODE = ("community_code", "小区编码", "code", True, "SUN01", "Code of the community (communities sheet or already in the app).", "小区代码")
UNIT_CODE = ("unit_code", "房号", "code", True, "1-2-301", "Unit code within the community.", "房屋编号", "房间号")

COMMUNITIES = Sheet("communities", "小区", "One row per community (estate) with its service contract.", (
    col("code", "小区编码", "code", True, "SUN01", "Community code, unique in the company; other sheets refer to it.", "小区代码"),
    col("name", "小区名称", "text", True, "阳光花园", "Name of the community."),
    col("province", "省份", (cells.text(40), "text (≤ 40)"), True, "江苏", "Province (decides the small-claims ceiling, L11)."),
    col("city", "城市", (cells.text(60), "text (≤ 60)"), True, "南京市", "City."),
    col("district", "区县", (cells.text(60), "text (≤ 60)"), False, "鼓楼区", "District."),
    col("address", "地址", "address", True, "南京市鼓楼区中山路1号", "Address of the community."),
    col("competent_court", "管辖法院", "text", False, "南京市鼓楼区人民法院", "Court with jurisdiction."),
    col("arbitration_commission", "仲裁委员会", "text", False, "", "Arbitration commission named in the contract's arbitration clause, if any (L12)."),
    col("contract_name", "合同名称", "text", True, "前期物业服务合同", "Name of the service contract (or the developer's preliminary contract)."),
    col("contract_number", "合同编号", (cells.text(80), "text (≤ 80)"), False, "NJ-2019-001", "Contract number."),
    col("contract_signed_on", "合同签订日期", "date", False, "2019-06-01", "Date the contract was signed."),
    col("contract_start", "合同开始日期", "date", False, "2019-07-01", "First day of the contract term."),
    col("contract_end", "合同结束日期", "date", False, "", "Last day of the contract term (blank: open-ended)."),
    col("fee_clause", "收费条款", "long", False, "物业服务费按建筑面积每月每平方米2.20元收取", "Text of the fee clause."),
    col("late_fee_rate_per_day", "违约金日费率", "ratio", False, "万分之五", "Late-fee rate per day on overdue principal; blank if the contract has no late-fee clause (L7).", "滞纳金日费率"),
    col("late_fee_cap_ratio", "违约金上限比例", "ratio", False, "1", "Cap of the total late fee as a share of the charge (default 1 = 100 %).", "滞纳金上限比例"),
    col("allocation_policy", "抵充规则", _choice(choices.ALLOCATION_POLICY), False, "principal_first", "How payments are applied when the payer designates nothing (L6); default principal_first."),
    col("demand_deadline_days", "催告期限天数", "int", False, "15", "Days a demand gives the owner to pay, 1–365 (L2); default 15."),
    col("vacancy_discount_ratio", "空置收费比例", "ratio", False, "", "Share of the standard charged for long-vacant units, e.g. 60% (L1)."),
    col("vacancy_discount_after_months", "空置起算月数", "int", False, "", "Months of vacancy after which the vacancy ratio applies."),
    col("vacancy_discount_basis", "空置优惠依据", "long", False, "", "Legal basis text of the vacancy discount."),
    col("developer_id_type", "建设单位证件类型", "id_type", False, "uscc", "Document type of the developer (default uscc)."),
    col("developer_id_number", "建设单位证件号码", "code", False, "", "Document number of the developer: an owners row of kind organisation with is_developer = yes (owes fees before delivery, L1)."),
))

FEE_SCHEDULES = Sheet("fee_schedules", "收费标准", "One row per fee standard: community, fee item, unit type and validity.", (
    col(*COMMUNITY_CODE),
    col("fee_item_code", "收费项目编码", "code", True, "PROPERTY", "Code of the fee item, unique in the company (created if new).", "收费项目代码"),
    col("fee_item_name", "收费项目名称", "text", True, "物业服务费", "Name of the fee item."),
    col("fee_kind", "费用类别", _choice(choices.FEE_KIND), False, "fee", "fee (a service fee) or cost (costs of enforcement, applied first under L6); default fee."),
    col("unit_type", "房屋类型", _choice(choices.UNIT_TYPE), True, "residential", "Unit type the standard applies to.", "房屋用途"),
    col("basis", "计费方式", _choice(choices.FEE_BASIS), False, "per_m2", "per_m2 (rate × area) or per_unit; default per_m2."),
    col("rate", "单价", "price", True, "2.20", "CNY per m² per month, or per unit per month; greater than 0.", "收费标准"),
    col("cycle", "计费周期", _choice(choices.CYCLE), True, "monthly", "Billing cycle."),
    col("due_rule", "缴费期限规则", _choice(choices.DUE_RULE), True, "day_of_first_month", "When a period's charge is due: on due_day of its first month, or on its last day."),
    col("due_day", "缴费日", "int", False, "15", "Day of the month 1–31; required for day_of_first_month."),
    col("valid_from", "生效日期", "date", True, "2019-07-01", "First day the standard applies."),
    col("valid_to", "失效日期", "date", False, "", "Last day the standard applies (blank: still valid)."),
), ("收费项目",))

UNITS = Sheet("units", "房屋", "One row per unit (room, shop, parking space).", (
    col(*COMMUNITY_CODE),
    col(*UNIT_CODE),
    col("building", "楼栋", "code", False, "1", "Building code; blank: the part of unit_code before the first '-'.", "楼号"),
    col("area", "面积", "area", True, "89.50", "Area in m², greater than 0, at most 2 decimals.", "建筑面积"),
    col("unit_type", "房屋类型", _choice(choices.UNIT_TYPE), False, "residential", "Unit type; default residential.", "房屋用途"),
    col("delivered_on", "交付日期", "date", False, "2019-08-01", "Date the unit was delivered to its buyer; before it the developer owes the fees (L1)."),
), ("房间", "房产"))

OWNERS = Sheet("owners", "业主", "One row per owner (person or organisation), identified by document type and number.", (
    col("id_type", "证件类型", "id_type", False, "resident_id", "Identity document type; default resident_id."),
    col("id_number", "证件号码", "code", True, "110101199003074477", "Document number; resident IDs and USCCs are checksum-validated (L18). Format the column as text.", "身份证号", "证件号"),
    col("name", "姓名", "text", True, "张三", "Name of the person or organisation.", "名称", "业主姓名"),
    col("kind", "业主类型", _choice(choices.OWNER_KIND), False, "person", "person or organisation; default from the document type (uscc/org_code: organisation)."),
    col("birth_date", "出生日期", "date", False, "", "Birth date; required for persons whose document does not carry it (passport, permits) (L15, L18)."),
    col("nationality", "国籍", (cells.text(40), "text (≤ 40)"), False, "CN", "Nationality."),
    col("phone", "电话", (cells.text(40), "text (≤ 40)"), False, "13800138000", "Phone number the owner gave.", "手机", "联系电话"),
    col("email", "电子邮箱", "text", False, "", "E-mail address the owner gave.", "邮箱"),
    col("service_address", "送达地址", "address", False, "南京市鼓楼区中山路1号1-2-301", "Address for service of documents."),
    col("service_address_confirmed", "送达地址已书面确认", "flag", False, "yes", "The owner gave the service address in writing (contract or confirmation); default no (L5)."),
    col("language", "语言", _choice(choices.LANGUAGE), False, "zh_CN", "Language of letters: zh_CN or en; default zh_CN."),
    col("is_developer", "是否建设单位", "flag", False, "no", "yes for the developer (an organisation); default no."),
))

OWNERSHIPS = Sheet("ownerships", "产权", "Who owes a unit's fees from a date. Co-owners: one row per co-owner with the same unit and valid_from.", (
    col(*COMMUNITY_CODE),
    col(*UNIT_CODE),
    col("owner_id_type", "业主证件类型", "id_type", False, "resident_id", "Document type of the owner; default resident_id."),
    col("owner_id_number", "业主证件号码", "code", True, "110101199003074477", "Document number of the owner (owners sheet or already in the app)."),
    col("valid_from", "起始日期", "date", True, "2019-08-01", "First day of the ownership.", "产权起始日期"),
    col("valid_to", "截止日期", "date", False, "", "Last day of the ownership (blank: current owner).", "产权截止日期"),
    col("note", "备注", "text", False, "", "Note."),
), ("产权人", "业主房屋"))

CHARGES = Sheet("charges", "应收", "Historical charges (optional). The ownership record is the one covering the period start.", (
    col(*COMMUNITY_CODE),
    col(*UNIT_CODE),
    col("fee_item_code", "收费项目编码", "code", True, "PROPERTY", "Fee item code (fee_schedules sheet or already in the app).", "收费项目代码"),
    col("period", "账期", "period", False, "2022-01", "Period label; give it or period_start.", "所属期间"),
    col("period_start", "账期开始日期", "date", False, "", "First day of the period when no label is given."),
    col("period_end", "账期结束日期", "date", False, "", "Last day of the period (blank: the billing cycle of the community's fee standard)."),
    col("amount", "金额", "money", True, "196.90", "Amount of the charge in yuan, greater than 0.", "应收金额"),
    col("due_date", "应缴日期", "date", True, "2022-01-15", "Due date of the charge.", "到期日"),
    col("ownership_from", "产权起始日期", "date", False, "", "valid_from of the ownership owing it, when a period is split between owners."),
    col("note", "备注", "text", False, "", "Note."),
), ("应收费用", "历史欠费"))

PAYMENTS = Sheet("payments", "实收", "Money received; applied in date order after the charges exist (L6).", (
    col("receipt_ref", "收据号", (cells.text(80), "text (≤ 80)"), True, "R2022-0001", "Receipt reference, unique in the company; the same reference twice must have the same content.", "票据号", "收据编号"),
    col(*COMMUNITY_CODE),
    col(*UNIT_CODE),
    col("payer_id_type", "缴款人证件类型", "id_type", False, "resident_id", "Document type of the payer; default resident_id."),
    col("payer_id_number", "缴款人证件号码", "code", True, "110101199003074477", "Document number of the payer, an owner (or former owner) of the unit."),
    col("received_on", "收款日期", "date", True, "2022-03-10", "Date the money was received; not in the future, not in closed books.", "缴费日期"),
    col("amount", "金额", "money", True, "196.90", "Amount in yuan, greater than 0.", "实收金额", "缴费金额"),
    col("method", "缴费方式", _choice(choices.PAYMENT_METHOD), False, "bank_transfer", "How it was paid; default bank_transfer."),
    col("designation", "指定账期", "periods", False, "2022-01", "Periods the payer designated (applied to first, L6); blank: none."),
    col("note", "备注", "text", False, "", "Note."),
), ("缴费", "收款"))

INTERRUPTIONS = Sheet("interruptions", "时效中断", "Past limitation interruptions (L5): delivered demands, acknowledgements, plans, filings, mediation requests.", (
    col(*COMMUNITY_CODE),
    col(*UNIT_CODE),
    col("kind", "中断事由", _choice(choices.INTERRUPTION_KIND), True, "demand_delivered", "Kind of event.", "类型"),
    col("occurred_on", "日期", "date", True, "2024-06-10", "Date of the event (for a demand: the delivery date).", "发生日期", "送达日期"),
    col("proof_ref", "证据编号", (cells.text(200), "text (≤ 200)"), True, "EMS1234567890", "Proof reference: tracking number, receipt scan id, court receipt number.", "凭证编号"),
    col("delivery_result", "送达结果", _choice(choices.DELIVERY), False, "signed_by_owner", "For demand_delivered: how it reached the owner; must count as delivered (L5)."),
    col("owner_gave_contact", "联系方式由业主提供", "flag", False, "yes", "For SMS/e-mail: the number or address was given by the owner; default yes."),
    col("periods", "涉及账期", "periods", True, "2022-01", "Period labels of the unit's charges the event covers.", "账期"),
    col("owner_id_type", "业主证件类型", "id_type", False, "", "Document type of the owner concerned (optional)."),
    col("owner_id_number", "业主证件号码", "code", False, "", "Document number of the owner concerned; limits the periods to that owner's charges."),
    col("proof_note", "证据说明", "long", False, "EMS 本人签收", "Description of the proof."),
), ("诉讼时效中断", "催告记录"))

SHEETS: tuple[Sheet, ...] = (COMMUNITIES, FEE_SCHEDULES, UNITS, OWNERS, OWNERSHIPS, CHARGES, PAYMENTS, INTERRUPTIONS)
SHEET_BY_KEY = {header_key(n): s for s in SHEETS for n in (s.name, s.zh, *s.aliases)}
