"""Accepted spellings (English codes and Chinese words) of every enumerated column."""

from __future__ import annotations

from arrears.domain.identity import IdType
from arrears.domain.limitation import DeliveryResult

OWNER_KIND = {"person": "person", "individual": "person", "自然人": "person", "个人": "person",
              "organisation": "organisation", "organization": "organisation", "company": "organisation",
              "单位": "organisation", "法人": "organisation", "企业": "organisation", "组织": "organisation"}
ID_TYPE = {
    "resident_id": IdType.RESIDENT_ID.value, "居民身份证": IdType.RESIDENT_ID.value, "身份证": IdType.RESIDENT_ID.value,
    "passport": IdType.PASSPORT.value, "护照": IdType.PASSPORT.value,
    "hk_macao_permit": IdType.HK_MACAO_PERMIT.value, "港澳居民来往内地通行证": IdType.HK_MACAO_PERMIT.value,
    "回乡证": IdType.HK_MACAO_PERMIT.value,
    "taiwan_permit": IdType.TAIWAN_PERMIT.value, "台湾居民来往大陆通行证": IdType.TAIWAN_PERMIT.value,
    "台胞证": IdType.TAIWAN_PERMIT.value,
    "hmt_residence_permit": IdType.HMT_RESIDENCE_PERMIT.value, "港澳台居民居住证": IdType.HMT_RESIDENCE_PERMIT.value,
    "foreign_permanent_id": IdType.FOREIGN_PERMANENT_ID.value,
    "外国人永久居留身份证": IdType.FOREIGN_PERMANENT_ID.value,
    "uscc": IdType.USCC.value, "统一社会信用代码": IdType.USCC.value,
    "org_code": IdType.ORG_CODE.value, "组织机构代码": IdType.ORG_CODE.value,
}
ORGANISATION_ID_TYPES = frozenset({IdType.USCC.value, IdType.ORG_CODE.value})
UNIT_TYPE = {"residential": "residential", "住宅": "residential", "commercial": "commercial", "商业": "commercial",
             "商铺": "commercial", "parking": "parking", "车位": "parking", "storage": "storage",
             "储藏室": "storage", "储物间": "storage", "other": "other", "其他": "other"}
FEE_BASIS = {"per_m2": "per_m2", "按面积": "per_m2", "每平方米": "per_m2", "per_unit": "per_unit",
             "按户": "per_unit", "每户": "per_unit", "按个": "per_unit"}
FEE_KIND = {"fee": "fee", "服务费": "fee", "收费": "fee", "cost": "cost", "费用": "cost", "实现债权费用": "cost"}
CYCLE = {"monthly": "monthly", "月": "monthly", "按月": "monthly", "quarterly": "quarterly", "季": "quarterly",
         "按季": "quarterly", "季度": "quarterly", "half_yearly": "half_yearly", "半年": "half_yearly",
         "按半年": "half_yearly", "yearly": "yearly", "年": "yearly", "按年": "yearly", "年度": "yearly"}
DUE_RULE = {"day_of_first_month": "day_of_first_month", "首月某日": "day_of_first_month", "期初": "day_of_first_month",
            "period_end": "period_end", "期末": "period_end"}
ALLOCATION_POLICY = {"principal_first": "principal_first", "本金优先": "principal_first",
                     "statutory": "statutory", "法定顺序": "statutory", "法定": "statutory"}
INTERRUPTION_KIND = {
    "demand_delivered": "demand_delivered", "催告送达": "demand_delivered", "催告": "demand_delivered",
    "acknowledgement": "acknowledgement", "acknowledgment": "acknowledgement", "债务确认": "acknowledgement",
    "承认债务": "acknowledgement",
    "payment_plan": "payment_plan", "分期还款协议": "payment_plan", "还款协议": "payment_plan",
    "filing": "filing", "起诉": "filing", "立案": "filing", "申请支付令": "filing", "申请仲裁": "filing",
    "mediation_request": "mediation_request", "调解申请": "mediation_request", "申请调解": "mediation_request",
}
_DELIVERY_ZH = {
    DeliveryResult.SIGNED_BY_OWNER: "本人签收",
    DeliveryResult.SIGNED_BY_HOUSEHOLD_ADULT: "同住成年家属签收",
    DeliveryResult.SIGNED_BY_AUTHORISED: "授权人签收",
    DeliveryResult.REFUSED_AT_GIVEN_ADDRESS: "确认地址拒收",
    DeliveryResult.RETURNED_FROM_GIVEN_ADDRESS: "确认地址退回",
    DeliveryResult.SIGNED_BY_LOCKER_OR_RECEPTION: "快递柜或前台代收",
    DeliveryResult.SIGNED_BY_COMPANY_STAFF: "本公司员工代收",
    DeliveryResult.RETURNED_ADDRESS_UNKNOWN: "地址不详退回",
    DeliveryResult.SMS_RECEIPT: "短信有送达回执",
    DeliveryResult.EMAIL_ACCEPTED: "邮件已被接收",
    DeliveryResult.SMS_NO_RECEIPT: "短信无回执",
    DeliveryResult.EMAIL_NO_RECEIPT: "邮件无回执",
    DeliveryResult.POSTED_NOTICE: "公告张贴",
    DeliveryResult.GROUP_CHAT: "群发消息",
}
DELIVERY = {**{r.value: r.value for r in DeliveryResult}, **{zh: r.value for r, zh in _DELIVERY_ZH.items()}}
LANGUAGE = {"zh_CN": "zh_CN", "zh": "zh_CN", "中文": "zh_CN", "en": "en", "English": "en", "英文": "en"}


def spellings(options: dict[str, str]) -> str:
    """For the documentation: each stored value with its other spellings."""
    by_value: dict[str, list[str]] = {value: [] for value in options.values()}
    for spelling, value in options.items():
        if spelling != value:
            by_value[value].append(spelling)
    return "; ".join(f"`{v}`" + (f" ({', '.join(s)})" if s else "") for v, s in by_value.items())
PAYMENT_METHOD = {"bank_transfer": "bank_transfer", "银行转账": "bank_transfer", "转账": "bank_transfer",
                  "wechat": "wechat", "微信": "wechat", "alipay": "alipay", "支付宝": "alipay",
                  "cash": "cash", "现金": "cash", "pos": "pos", "刷卡": "pos", "other": "other", "其他": "other"}
