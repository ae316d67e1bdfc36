"""Demo data: one company, two communities (南京, 杭州), about 1,500 units and 24 months of ledger.

Everything that touches the ledger goes through the services (billing run, ownership transfer,
batch payment posting, interruptions, users), so the demo obeys the same invariants as real data; only
the static master data (company, communities, buildings, units, owners, initial ownership records)
is written directly. The load is deterministic for a seed and a `today`; it flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy
from arrears.domain.calendar import add_years, month_end
from arrears.domain.escalation import Action
from arrears.domain.identity import IdType, normalize_id, org_code_check_char, uscc_check_char
from arrears.domain.limitation import DeliveryResult
from arrears.domain.periods import BillingCycle, DueRule, period_containing
from arrears.persistence.enums import ChargeSource, FeeBasis, InterruptionKind, OwnerKind, Role, UnitType
from arrears.persistence.models import (
    Building,
    Charge,
    Community,
    Company,
    EscalationAction,
    FeeItem,
    FeeSchedule,
    MessageAction,
    OutboundMessage,
    Owner,
    Ownership,
    OwnershipParty,
    Unit,
)

from . import billing, interruptions, ownership, payments, users
from .actor import Actor
from .escalation import delivery, outbox, review
from .escalation import letters as escalation_letters
from .escalation.policy import ensure_policy
from .escalation.sweep import run_escalation
from .legal.ceilings import seed_ceilings
from .payment_batch import PaymentInput, record_payments

Progress = Callable[[str], None]

DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("admin", "demo-admin-2026", Role.ADMIN.value),
    ("manager", "demo-manager-2026", Role.MANAGER.value),
    ("accountant", "demo-accountant-2026", Role.ACCOUNTANT.value),
    ("lawyer", "demo-lawyer-2026", Role.LAWYER.value),
    ("auditor", "demo-auditor-2026", Role.AUDITOR.value),
]
_DISPLAY_NAMES = {"admin": "系统管理员", "manager": "周经理", "accountant": "李会计", "lawyer": "赵律师",
                  "auditor": "孙审计"}

ACTOR = Actor.system("demo")
MONTHS = 24
DEMO_DEMANDS_SERVED = 12  # demands the demo walks through the engine at full scale (_engine_demands)
ZERO = Decimal("0.00")

# --- names and identity numbers ------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴"
)
_MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣晨轩建国志文博振峰"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂丹萍红琳洁梅莉婷雪慧颖倩琴云兰凤晶瑶怡佳悦欣月璐薇"
_QQ_OR_163 = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
_PHONE_PREFIXES = (
    ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "177", "178", "180", "181", "182", "183", "186", "187", "188", "189", "191", "195", "198", "199"]
)
# GB/T 2260 county codes (birthplaces of the demo owners), local first.
_LOCAL_REGIONS = {
    "NJ": ("320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115", "320506",
           "320583", "321002", "320303"),
    "HZ": ("330102", "330105", "330106", "330108", "330110", "330122", "330203", "330302", "330602",
           "330782"),
}
_OTHER_REGIONS = ("340104", "370102", "410105", "420106", "510107", "130102", "360102", "430104",
                  "350102", "610113", "210102", "230103", "440106", "500103")
_ELSEWHERE = ("上海市浦东新区张杨路{n}号", "北京市朝阳区建国路{n}号", "深圳市南山区科技园南路{n}号",
              "苏州市工业园区星湖街{n}号", "上海市徐汇区漕溪北路{n}号")
_FIRMS = ("餐饮管理", "便利店", "教育咨询", "医药连锁", "健身服务", "房产经纪", "洗衣服务", "花艺设计")


class _Identities:
    """Unique, checksum-valid resident ID numbers and USCCs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def resident_id(self, region: str, birth: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = body + _resident_check(body)
            if number not in self.used:
                self.used.add(number)
                return normalize_id(IdType.RESIDENT_ID, number)

    def uscc(self, region: str) -> str:
        while True:
            org_body = "".join(self.rng.choice("0123456789") for _ in range(8))
            body = f"91{region}{org_body}{org_code_check_char(org_body)}"
            number = body + uscc_check_char(body)
            if number not in self.used:
                self.used.add(number)
                return normalize_id(IdType.USCC, number)


def _resident_check(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of an 18-character resident ID (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    return "10X98765432"[total % 11]


def _person_name(rng: random.Random, male: bool) -> str:
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
    return rng.choice(_SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# --- the two communities --------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    buildings: int
    entrances: int
    floors: int
    commercial: int
    parking: int


@dataclass(frozen=True)
class _CommunitySpec:
    key: str
    code: str
    name: str
    province: str
    city: str
    district: str
    street: str
    court: str
    arbitration: str | None
    contract_name: str
    contract_number: str
    fee_clause: str
    late_fee_rate: Decimal | None
    policy: AllocationPolicy
    cycle: BillingCycle
    due_rule: DueRule
    residential_rate: Decimal
    commercial_rate: Decimal
    parking_rate: Decimal
    parking_cycle: BillingCycle
    parking_due_rule: DueRule
    layout: _Layout
    developer: str
    developer_rep: str
    handover_year_offset: int  # years before the window that the estate was handed over


_COMMUNITIES = (
    _CommunitySpec(
        key="NJ", code="NJ-JLSF", name="金陵尚府", province="江苏", city="南京市", district="鼓楼区",
        street="江苏省南京市鼓楼区热河南路168号", court="南京市鼓楼区人民法院", arbitration=None,
        contract_name="金陵尚府前期物业服务合同", contract_number="JLSF-WY-2018-001",
        fee_clause=(
            "住宅物业服务费按建筑面积每月每平方米2.80元计收，商业用房每月每平方米5.50元，"
            "机动车位管理费每个每月80.00元；按月交纳，业主应于每月15日前交清当月费用。"
            "逾期交纳的，自逾期之日起按日加收欠交金额万分之五的违约金，违约金总额不超过欠交金额。"
        ),
        late_fee_rate=Decimal("0.0005"), policy=AllocationPolicy.PRINCIPAL_FIRST,
        cycle=BillingCycle.MONTHLY, due_rule=DueRule.DAY_OF_FIRST_MONTH,
        residential_rate=Decimal("2.80"), commercial_rate=Decimal("5.50"), parking_rate=Decimal("80.00"),
        parking_cycle=BillingCycle.MONTHLY, parking_due_rule=DueRule.DAY_OF_FIRST_MONTH,
        layout=_Layout(buildings=8, entrances=2, floors=18, commercial=12, parking=120),
        developer="南京鼎泰置业有限公司", developer_rep="顾长青", handover_year_offset=6,
    ),
    _CommunitySpec(
        key="HZ", code="HZ-XXYY", name="西溪雅苑", province="浙江", city="杭州市", district="西湖区",
        street="浙江省杭州市西湖区文二西路528号", court="杭州市西湖区人民法院", arbitration="杭州仲裁委员会",
        contract_name="西溪雅苑物业服务合同", contract_number="XXYY-2021-08",
        fee_clause=(
            "住宅物业服务费按建筑面积每月每平方米3.20元计收，商业用房每月每平方米6.00元，按季度预交，"
            "业主应于每季度首月15日前交纳当季费用；地下车位管理费每个每月100.00元，按月于月末前交纳。"
            "因本合同发生的争议，提交杭州仲裁委员会仲裁。"
        ),
        late_fee_rate=None, policy=AllocationPolicy.STATUTORY,
        cycle=BillingCycle.QUARTERLY, due_rule=DueRule.DAY_OF_FIRST_MONTH,
        residential_rate=Decimal("3.20"), commercial_rate=Decimal("6.00"), parking_rate=Decimal("100.00"),
        parking_cycle=BillingCycle.MONTHLY, parking_due_rule=DueRule.PERIOD_END,
        layout=_Layout(buildings=10, entrances=2, floors=16, commercial=8, parking=140),
        developer="杭州西溪房地产开发有限公司", developer_rep="沈卫东", handover_year_offset=3,
    ),
)

# --- behaviours -------------------------------------------------------------------------------

GOOD, PREPAYER, LATE, DEFAULTER, VACANT = "good", "prepayer", "late", "defaulter", "vacant"
_SHARES = ((PREPAYER, 0.02), (LATE, 0.18), (DEFAULTER, 0.08), (VACANT, 0.04))  # the rest: GOOD


@dataclass
class _UnitPlan:
    """What the generator decided for one unit before any ledger entry exists."""

    unit: Unit
    behaviour: str
    owners: list[Owner]
    since: dt.date | None  # start of the owners' record (None: developer holds it)
    seed: int
    transfer_on: dt.date | None = None
    new_owners: list[Owner] = field(default_factory=list)
    new_behaviour: str = GOOD
    seller_leaves_debt: bool = False
    legacy_months: int = 0


@dataclass(frozen=True)
class _PlannedPayment:
    unit_id: int
    payer_id: int
    received_on: dt.date
    amount_fen: int
    designation: tuple[int, ...] = ()
    method: str = "bank_transfer"
    note: str | None = None


@dataclass(frozen=True)
class _ChargeRow:
    id: int
    unit_id: int
    ownership_id: int
    due_date: dt.date
    period_start: dt.date
    amount_fen: int
    legacy: bool


def load_demo(
    session: Session,
    *,
    seed: int = 2026,
    progress: Progress | None = None,
    today: dt.date | None = None,
    scale: float = 1.0,
    via_service: bool = False,
) -> None:
    """Create the demo company with 24 months of billing, payments and interruptions.

    `scale` multiplies the number of units (tests use a small fraction); every behaviour
    (defaulters, prepayers, transfers…) keeps at least one unit per community. `via_service`
    posts the payments one by one through `record_payment` (slow; for the equivalence test).
    """
    say = progress or (lambda _msg: None)
    today = today or dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    rng = random.Random(seed)
    ids = _Identities(rng)
    window_start = _add_months(today.replace(day=1), -(MONTHS - 1))

    company = _company(session, ids)
    say(f"demo: company {company.name} ({company.uscc})")
    _users(session, company)
    plans: list[_UnitPlan] = []
    for spec in _COMMUNITIES:
        plans += _community(session, rng, ids, company, spec, window_start, today, scale)
    say(f"demo: {len(plans)} units, billing {MONTHS} months through {today:%Y-%m}")
    result = billing.run_billing(session, ACTOR, company_id=company.id, through=today, today=today)
    _transfers(session, company, plans, today)
    _legacy_charges(session, company, plans, window_start)
    charges = _charges(session, company.id)
    say(f"demo: {len(charges)} charges ({result.created} from the billing run); planning payments")
    planned = _plan_payments(rng, plans, charges, _parties(session, company.id), today)
    _post_payments(session, company, planned, today, say, via_service=via_service)
    demands = _demands(session, company, rng, plans, today)
    session.flush()
    say(f"demo: {demands} delivered demands recorded")
    ensure_policy(session, ACTOR, company.id)
    seed_ceilings(session)  # small-claims ceilings (L11), only into an empty table
    served = _engine_demands(session, company, rng, today, max(2, round(DEMO_DEMANDS_SERVED * min(scale, 1.0))))
    say(f"demo: {served} demands sent and delivered through the escalation engine 60 days ago")
    run = run_escalation(session, ACTOR, company.id, as_of=today, trigger="demo")  # idempotent: unique keys
    say(f"demo: escalation run {run.run_id}: {run.counts['opened']} cases opened, "
        f"{run.counts['prepared']} actions prepared; done")


# --- master data ------------------------------------------------------------------------------


def _company(session: Session, ids: _Identities) -> Company:
    company = Company(
        name="江苏瑞和物业服务有限公司", uscc=ids.uscc("320106"), legal_representative="陈立华",
        address="江苏省南京市鼓楼区中山北路105号瑞和大厦12楼", phone="025-83456789",
        timezone="Asia/Shanghai", arrears_tolerance=Decimal("10.00"),
        collections_contact="客服中心 025-83456789（工作日 9:00–17:00）",
    )
    session.add(company)
    session.flush()
    return company


def _users(session: Session, company: Company) -> None:
    for username, password, role in DEMO_LOGINS:
        users.create_user(session, ACTOR, username=username, password=password,
                          display_name=_DISPLAY_NAMES[username], memberships={company.id: Role(role)})


def _community(
    session: Session, rng: random.Random, ids: _Identities, company: Company, spec: _CommunitySpec,
    window_start: dt.date, today: dt.date, scale: float,
) -> list[_UnitPlan]:
    handover = dt.date(window_start.year - spec.handover_year_offset, 6, 30)
    developer = Owner(
        company_id=company.id, kind=OwnerKind.ORGANISATION, name=spec.developer, id_type=IdType.USCC.value,
        id_number=ids.uscc(_LOCAL_REGIONS[spec.key][3]), phone="0571-8" if spec.key == "HZ" else "025-8",
        service_address=f"{spec.street}（售楼处）", service_address_confirmed=True, is_developer=True,
    )
    developer.phone = (developer.phone or "") + f"{rng.randrange(10**6, 10**7)}"
    session.add(developer)
    contract_start = dt.date(handover.year, handover.month + 1, 1)
    community = Community(
        company_id=company.id, code=spec.code, name=spec.name, province=spec.province, city=spec.city,
        district=spec.district, address=spec.street, competent_court=spec.court,
        arbitration_commission=spec.arbitration, contract_name=spec.contract_name,
        contract_number=spec.contract_number, contract_signed_on=handover - dt.timedelta(days=75),
        contract_start=contract_start, contract_end=add_years(contract_start, 10) - dt.timedelta(days=1),
        fee_clause=spec.fee_clause, late_fee_rate_per_day=spec.late_fee_rate, late_fee_cap_ratio=Decimal(1),
        allocation_policy=spec.policy, demand_deadline_days=15,
        notice_legal_basis=f"《中华人民共和国民法典》第九百四十四条、《{spec.province}省物业管理条例》",
        notice_posting_days=15,
    )
    session.add(community)
    session.flush()
    community.developer_id = developer.id
    _schedules(session, company, community, spec, window_start)
    units = _units(session, rng, company, community, spec, scale)
    return _ownerships(session, rng, ids, company, spec, developer, units, handover, window_start, today)


def _fee_item(session: Session, company: Company, code: str, name: str) -> FeeItem:
    item = session.scalar(select(FeeItem).where(FeeItem.company_id == company.id, FeeItem.code == code))
    if item is None:
        item = FeeItem(company_id=company.id, code=code, name=name)
        session.add(item)
        session.flush()
    return item


def _schedules(
    session: Session, company: Company, community: Community, spec: _CommunitySpec, window_start: dt.date
) -> None:
    fee = _fee_item(session, company, "PROPERTY", "物业服务费")
    parking = _fee_item(session, company, "PARKING", "车位管理费")
    start = period_containing(spec.cycle, window_start).start
    rows = (
        (fee, UnitType.RESIDENTIAL, FeeBasis.PER_M2, spec.residential_rate, spec.cycle, spec.due_rule, start),
        (fee, UnitType.COMMERCIAL, FeeBasis.PER_M2, spec.commercial_rate, spec.cycle, spec.due_rule, start),
        (parking, UnitType.PARKING, FeeBasis.PER_UNIT, spec.parking_rate, spec.parking_cycle,
         spec.parking_due_rule, window_start),
    )
    for item, unit_type, basis, rate, cycle, rule, valid_from in rows:
        session.add(FeeSchedule(
            community_id=community.id, fee_item_id=item.id, unit_type=unit_type, basis=basis, rate=rate,
            cycle=cycle, due_rule=rule, due_day=15 if rule is DueRule.DAY_OF_FIRST_MONTH else None,
            valid_from=valid_from,
        ))


def _scaled(n: int, scale: float, minimum: int) -> int:
    return max(minimum, round(n * scale))


def _units(
    session: Session, rng: random.Random, company: Company, community: Community, spec: _CommunitySpec,
    scale: float,
) -> list[Unit]:
    layout = spec.layout
    residential: list[tuple[int, str, Decimal]] = []
    for b in range(1, layout.buildings + 1):
        stack_areas = {(e, r): rng.randint(6000, 18000) for e in range(1, layout.entrances + 1) for r in (1, 2)}
        for e in range(1, layout.entrances + 1):
            for floor in range(1, layout.floors + 1):
                for r in (1, 2):
                    residential.append((b, f"{b}-{e}-{floor}{r:02d}", _area(stack_areas[(e, r)])))
    residential = residential[: _scaled(len(residential), scale, 10)]
    buildings: dict[str, Building] = {}

    def building(code: str, name: str) -> Building:
        if code not in buildings:
            buildings[code] = Building(community_id=community.id, code=code, name=name)
            session.add(buildings[code])
        return buildings[code]

    specs: list[tuple[Building, str, Decimal, UnitType]] = []
    for b, code, area in residential:
        specs.append((building(str(b), f"{b}幢"), code, area, UnitType.RESIDENTIAL))
    for n in range(1, _scaled(layout.commercial, scale, 2) + 1):
        specs.append((building("S", "沿街商铺"), f"S-1-{100 + n}", _area(rng.randint(4000, 30000)),
                      UnitType.COMMERCIAL))
    for n in range(1, _scaled(layout.parking, scale, 3) + 1):
        specs.append((building("P", "地下车库"), f"P-B1-{n:03d}", Decimal("12.50"), UnitType.PARKING))
    session.flush()
    units = [
        Unit(company_id=company.id, community_id=community.id, building_id=b.id, code=code, area=area,
             unit_type=unit_type)
        for b, code, area, unit_type in specs
    ]
    session.add_all(units)
    session.flush()
    return units


def _area(hundredths: int) -> Decimal:
    return Decimal(hundredths) / 100


def _behaviours(rng: random.Random, n: int) -> list[str]:
    """Exact shares of each behaviour (at least one each), shuffled."""
    result: list[str] = []
    for behaviour, share in _SHARES:
        result += [behaviour] * max(1, round(n * share))
    result += [GOOD] * max(0, n - len(result))
    rng.shuffle(result)
    return result[:n]


def _ownerships(
    session: Session, rng: random.Random, ids: _Identities, company: Company, spec: _CommunitySpec,
    developer: Owner, units: list[Unit], handover: dt.date, window_start: dt.date, today: dt.date,
) -> list[_UnitPlan]:
    people = _People(session, rng, ids, company, spec)
    homes = [u for u in units if u.unit_type is not UnitType.PARKING]
    spaces = [u for u in units if u.unit_type is UnitType.PARKING]
    behaviours = _behaviours(rng, len(homes))
    plans: list[_UnitPlan] = []
    # A few homes were sold only recently: the developer owes the periods before delivery (L1).
    recent = set(rng.sample(range(len(homes)), max(1, round(len(homes) * 0.01))))
    unsold = set(rng.sample(sorted(set(range(len(homes))) - recent), max(1, round(len(homes) * 0.005))))
    for i, unit in enumerate(homes):
        behaviour = behaviours[i]
        if i in unsold:
            plans.append(_UnitPlan(unit, "developer", [developer], None, rng.randrange(10**9)))
            continue
        if unit.unit_type is UnitType.COMMERCIAL and rng.random() < 0.5:
            owners = [people.firm()]
        else:
            owners = people.household(vacant=behaviour == VACANT)
        if i in recent:
            since = today - dt.timedelta(days=rng.randint(60, 300))
            unit.delivered_on = since
        else:
            latest = window_start - dt.timedelta(days=1 if behaviour != DEFAULTER else 540)
            since = handover + dt.timedelta(days=rng.randint(0, max(1, (latest - handover).days)))
            unit.delivered_on = since
        plans.append(_UnitPlan(unit, behaviour, owners, since, rng.randrange(10**9)))
    buyers = [p for p in plans if p.behaviour in (GOOD, PREPAYER, LATE) and p.since and p.since < window_start]
    for space in spaces:
        if rng.random() < 0.3 or not buyers:
            plans.append(_UnitPlan(space, "developer", [developer], None, rng.randrange(10**9)))
            continue
        home = rng.choice(buyers)
        since = max(home.since or handover, handover) + dt.timedelta(days=rng.randint(0, 200))
        since = min(since, window_start - dt.timedelta(days=1))
        space.delivered_on = since
        plans.append(_UnitPlan(space, home.behaviour, home.owners[:1], since, rng.randrange(10**9)))
    _choose_transfers(rng, people, plans, window_start, today)
    _choose_legacy(plans, spec)
    session.flush()
    for plan in plans:
        since = plan.since or handover
        note = "房屋空置，业主不在本市居住" if plan.behaviour == VACANT else None
        if plan.since is None:
            note = "开发商未售房屋（建设单位承担物业费）"
        record = Ownership(unit_id=plan.unit.id, valid_from=since, note=note)
        for position, owner in enumerate(plan.owners):
            record.parties.append(OwnershipParty(owner_id=owner.id, position=position))
        session.add(record)
    session.flush()
    return plans


def _choose_transfers(
    rng: random.Random, people: _People, plans: list[_UnitPlan], window_start: dt.date, today: dt.date
) -> None:
    candidates = [p for p in plans if p.unit.unit_type is UnitType.RESIDENTIAL and p.behaviour in (GOOD, LATE)
                  and p.since is not None and p.since < window_start]
    count = max(2, round(len(candidates) * 0.012))
    latest = today - dt.timedelta(days=45)
    first = _add_months(window_start, 3)
    for n, plan in enumerate(rng.sample(candidates, min(count, len(candidates)))):
        day = first + dt.timedelta(days=rng.randint(0, max(0, (latest - first).days)))
        if day.day == 1:
            day += dt.timedelta(days=rng.randint(1, 20))  # mid-period, so a charge is split by days
        plan.transfer_on = day
        plan.new_owners = people.household(vacant=False)
        plan.new_behaviour = LATE if n % 3 == 2 else GOOD
        plan.seller_leaves_debt = n % 3 == 1


def _choose_legacy(plans: list[_UnitPlan], spec: _CommunitySpec) -> None:
    """Monthly-community defaulters carry arrears from the previous system (limitation shows)."""
    if spec.cycle is not BillingCycle.MONTHLY:
        return
    defaulters = [p for p in plans if p.behaviour == DEFAULTER and p.unit.unit_type is UnitType.RESIDENTIAL]
    for n, plan in enumerate(defaulters[: max(2, len(defaulters) // 3)]):
        plan.legacy_months = 16 if n % 2 == 0 else 10


class _People:
    """Owners of one community: households (often spouses) and small firms."""

    def __init__(self, session: Session, rng: random.Random, ids: _Identities, company: Company,
                 spec: _CommunitySpec) -> None:
        self.session, self.rng, self.ids, self.company, self.spec = session, rng, ids, company, spec
        self.count = 0

    def household(self, *, vacant: bool) -> list[Owner]:
        address = self._address(vacant)
        first = self._person(self.rng.random() < 0.55, address, vacant)
        if self.rng.random() < 0.25:
            spouse = self._person(not self._is_male(first), address, vacant, near=first.birth_date)
            return [first, spouse]
        return [first]

    def firm(self) -> Owner:
        self.count += 1
        name = f"{self.spec.city[:2]}{self.rng.choice('恒盛安泰嘉华瑞祥鑫荣')}{self.rng.choice('记源和丰达通')}" \
               f"{self.rng.choice(_FIRMS)}有限公司"
        owner = Owner(
            company_id=self.company.id, kind=OwnerKind.ORGANISATION, name=name, id_type=IdType.USCC.value,
            id_number=self.ids.uscc(self.rng.choice(_LOCAL_REGIONS[self.spec.key])),
            phone=_phone(self.rng), service_address=f"{self.spec.street}沿街商铺",
            service_address_confirmed=True,
        )
        self.session.add(owner)
        return owner

    def _person(self, male: bool, address: str, vacant: bool, near: dt.date | None = None) -> Owner:
        self.count += 1
        rng = self.rng
        if near is not None:
            birth = near + dt.timedelta(days=rng.randint(-1500, 1500))
        else:
            birth = dt.date(1952, 1, 1) + dt.timedelta(days=rng.randint(0, 48 * 365))
        local = rng.random() < 0.7
        region = rng.choice(_LOCAL_REGIONS[self.spec.key] if local else _OTHER_REGIONS)
        number = self.ids.resident_id(region, birth, male)
        email = None
        if rng.random() < 0.35:
            domain = rng.choice(_QQ_OR_163)
            local_part = str(rng.randrange(10**7, 10**10)) if domain == "qq.com" else f"owner{birth:%y}{rng.randrange(1000, 9999)}"
            email = f"{local_part}@{domain}"
        owner = Owner(
            company_id=self.company.id, kind=OwnerKind.PERSON, name=_person_name(rng, male),
            id_type=IdType.RESIDENT_ID.value, id_number=number, nationality="CN", birth_date=birth,
            phone=_phone(rng), email=email, service_address=address,
            service_address_confirmed=rng.random() < 0.9 or vacant,
        )
        self.session.add(owner)
        return owner

    def _address(self, vacant: bool) -> str:
        if vacant:
            return self.rng.choice(_ELSEWHERE).format(n=self.rng.randint(1, 999))
        return f"{self.spec.street}{self.spec.name}"

    @staticmethod
    def _is_male(owner: Owner) -> bool:
        return int(owner.id_number[16]) % 2 == 1


# --- ledger -------------------------------------------------------------------------------


def _transfers(session: Session, company: Company, plans: list[_UnitPlan], today: dt.date) -> None:
    """Sales inside the window, through the service: charges are reposted split by days (E9)."""
    for plan in plans:
        if plan.transfer_on is None:
            continue
        ownership.transfer(session, ACTOR, company.id, plan.unit.id, [o.id for o in plan.new_owners],
                           from_date=plan.transfer_on, today=today)


def _legacy_charges(session: Session, company: Company, plans: list[_UnitPlan], window_start: dt.date) -> None:
    """Opening arrears migrated from the previous system (source `import`), before the window."""
    fee = session.scalar(select(FeeItem).where(FeeItem.company_id == company.id, FeeItem.code == "PROPERTY"))
    assert fee is not None
    for plan in plans:
        if not plan.legacy_months:
            continue
        record_id = session.scalar(select(Ownership.id).where(Ownership.unit_id == plan.unit.id,
                                                              Ownership.valid_from == plan.since))
        assert record_id is not None
        monthly = (plan.unit.area * Decimal("2.50")).quantize(Decimal("0.01"))  # the old standard
        for k in range(plan.legacy_months, 0, -1):
            start = _add_months(window_start, -k)
            session.add(Charge(
                company_id=company.id, unit_id=plan.unit.id, ownership_id=record_id, fee_item_id=fee.id,
                period_start=start, period_end=month_end(start.year, start.month), period_label=f"{start:%Y-%m}",
                due_date=start.replace(day=15), amount=monthly, source=ChargeSource.IMPORT,
                note="期初欠费（原收费系统迁移）", created_by=ACTOR.name, principal_outstanding=monthly,
            ))
    session.flush()


def _charges(session: Session, company_id: int) -> list[_ChargeRow]:
    rows = session.execute(
        select(Charge.id, Charge.unit_id, Charge.ownership_id, Charge.due_date, Charge.period_start,
               Charge.amount, Charge.source)
        .where(Charge.company_id == company_id, Charge.reversed_on.is_(None))
        .order_by(Charge.unit_id, Charge.due_date, Charge.id)
    )
    return [_ChargeRow(r.id, r.unit_id, r.ownership_id, r.due_date, r.period_start, int(r.amount * 100),
                       r.source == ChargeSource.IMPORT) for r in rows]


def _parties(session: Session, company_id: int) -> dict[int, tuple[list[int], bool, bool]]:
    """Ownership id -> (owner ids, held by a developer, record closed)."""
    rows = session.execute(
        select(Ownership.id, Ownership.valid_to, OwnershipParty.owner_id, Owner.is_developer)
        .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
        .join(Owner, Owner.id == OwnershipParty.owner_id)
        .where(Owner.company_id == company_id)
        .order_by(Ownership.id, OwnershipParty.position)
    )
    result: dict[int, tuple[list[int], bool, bool]] = {}
    for record_id, valid_to, owner_id, is_developer in rows:
        owners, _, _ = result.setdefault(record_id, ([], bool(is_developer), valid_to is not None))
        owners.append(owner_id)
    return result


def _plan_payments(
    rng: random.Random, plans: list[_UnitPlan], charges: list[_ChargeRow],
    parties: dict[int, tuple[list[int], bool, bool]], today: dt.date,
) -> list[_PlannedPayment]:
    by_unit: dict[int, list[_ChargeRow]] = defaultdict(list)
    for charge in charges:
        if not charge.legacy:  # migrated arrears stay unpaid (limitation shows on them)
            by_unit[charge.unit_id].append(charge)
    result: list[_PlannedPayment] = []
    for plan in plans:
        local = random.Random(plan.seed)
        groups: dict[int, list[_ChargeRow]] = defaultdict(list)
        for charge in by_unit.get(plan.unit.id, []):
            groups[charge.ownership_id].append(charge)
        for record_id, group in groups.items():
            owner_ids, developer, closed = parties[record_id]
            behaviour = _behaviour_of(plan, owner_ids, developer, closed)
            result += _payments_for(local, behaviour, plan, owner_ids, group, today)
    return result


def _behaviour_of(plan: _UnitPlan, owner_ids: list[int], developer: bool, closed: bool) -> str:
    if developer:
        # Unsold units: the developer pays, late; periods before a recent delivery: unpaid (L1).
        return "developer_unpaid" if closed else "developer"
    if plan.new_owners and owner_ids == [o.id for o in plan.new_owners]:
        return plan.new_behaviour
    if plan.transfer_on is not None and plan.seller_leaves_debt:
        return "seller_debt"
    return plan.behaviour


def _payments_for(
    rng: random.Random, behaviour: str, plan: _UnitPlan, payer_ids: list[int], charges: list[_ChargeRow],
    today: dt.date,
) -> list[_PlannedPayment]:
    """The payments one payer made for one ownership record's charges."""
    unit_id = plan.unit.id
    many = len(charges) > 12  # a monthly fee (a quarterly one has 8 or 9 periods in the window)

    def pay(day: dt.date, chunk: Sequence[_ChargeRow], amount_fen: int | None = None,
            designation: tuple[int, ...] = (), note: str | None = None) -> _PlannedPayment | None:
        amount = sum(c.amount_fen for c in chunk) if amount_fen is None else amount_fen
        if day > today or amount <= 0:
            return None
        return _PlannedPayment(unit_id, rng.choice(payer_ids), day, amount, designation,
                               rng.choice(_METHODS), note)

    out: list[_PlannedPayment | None] = []
    if behaviour == "developer":
        # The developer settles twice a year, two or three months late; the last half is open.
        for chunk in _chunks_by(charges, 6 if many else 2):
            if chunk[-1].due_date < today - dt.timedelta(days=150):
                out.append(pay(chunk[-1].due_date + dt.timedelta(days=rng.randint(40, 90)), chunk))
    elif behaviour in (GOOD, "seller_debt"):
        chunks = _chunks_by(charges, rng.choice((1, 1, 1, 6, 12)) if many else 1)
        if behaviour == "seller_debt":
            chunks = chunks[:-1]  # the seller left the last period(s) before the sale unpaid
        for chunk in chunks:
            out.append(pay(chunk[0].due_date - dt.timedelta(days=rng.randint(0, 12)), chunk))
    elif behaviour == PREPAYER:
        years: dict[int, list[_ChargeRow]] = defaultdict(list)
        for c in charges:
            years[c.due_date.year].append(c)
        for year, chunk in sorted(years.items()):
            periods = (12 if many else 4) if year == today.year else len(chunk)
            amount = max(c.amount_fen for c in chunk) * periods + rng.randint(0, 3) * 50000
            out.append(pay(chunk[0].due_date - dt.timedelta(days=rng.randint(3, 20)), chunk, amount,
                           note="预存物业费"))
    elif behaviour == LATE:
        carried = 0
        for chunk in _chunks_by(charges, rng.choice((1, 2, 3)) if many else 1):
            due = sum(c.amount_fen for c in chunk) + carried
            amount, carried = due, 0
            if rng.random() < 0.25:
                amount = due * rng.randint(50, 90) // 10000 * 100  # part payment, whole yuan
                carried = due - amount if rng.random() < 0.5 else 0
            designation = (chunk[-1].id,) if len(chunk) > 1 and rng.random() < 0.3 else ()
            day = chunk[-1].due_date + dt.timedelta(days=rng.randint(20, 120))
            out.append(pay(day, chunk, amount, designation, "业主指定缴纳最近一期" if designation else None))
    elif behaviour == VACANT and rng.random() < 0.5:
        # Pays once a year, late, "because nobody lives there" — but pays (L1).
        for chunk in _chunks_by(charges, 12 if many else 4):
            out.append(pay(chunk[-1].due_date + dt.timedelta(days=rng.randint(60, 200)), chunk))
    elif behaviour in (DEFAULTER, VACANT):
        stop = today - dt.timedelta(days=rng.randint(365, 730))
        for charge in (c for c in charges if c.due_date < stop):
            # With migrated arrears on the unit, the owner designates the period he pays for.
            designation = (charge.id,) if plan.legacy_months else ()
            out.append(pay(charge.due_date + dt.timedelta(days=rng.randint(-5, 25)), [charge],
                           designation=designation))
        unpaid = [c for c in charges if c.due_date >= stop]
        if unpaid and rng.random() < 0.4:
            day = stop + dt.timedelta(days=rng.randint(90, 270))
            out.append(pay(day, unpaid, rng.randint(5, 20) * 10000, note="部分还款"))
    # "developer_unpaid": the developer never paid the periods before delivery.
    return [p for p in out if p is not None]


_METHODS = ("wechat", "wechat", "alipay", "bank_transfer", "bank_transfer", "pos", "cash")


def _chunks_by(charges: list[_ChargeRow], size: int) -> list[list[_ChargeRow]]:
    return [charges[i : i + size] for i in range(0, len(charges), size)]


def _post_payments(
    session: Session, company: Company, planned: list[_PlannedPayment], today: dt.date, say: Progress,
    *, via_service: bool,
) -> None:
    """Post every payment with receipt numbers `R<year>-<n>` in date order, in one batch through
    `payment_batch.record_payments` (each unit's payments applied in date order, L6), or one by
    one through `payments.record_payment` when `via_service` (slow; the test compares both)."""
    planned = sorted(planned, key=lambda p: (p.received_on, p.unit_id, p.amount_fen))
    numbers: dict[int, int] = defaultdict(int)
    inputs: list[PaymentInput] = []
    for p in planned:
        numbers[p.received_on.year] += 1
        inputs.append(PaymentInput(
            unit_id=p.unit_id, payer_id=p.payer_id,
            receipt_ref=f"R{p.received_on.year}-{numbers[p.received_on.year]:06d}",
            received_on=p.received_on, amount=Decimal(p.amount_fen) / 100, method=p.method,
            designation=p.designation, note=p.note,
        ))
    if not via_service:
        result = record_payments(session, ACTOR, company.id, inputs, today=today)
        say(f"demo: {result.created} payments posted")
        return
    for n, data in enumerate(inputs, start=1):
        payments.record_payment(session, ACTOR, company.id, data, today=today)
        if n % 2000 == 0:
            say(f"demo: {n}/{len(inputs)} payments posted")


def _demands(
    session: Session, company: Company, rng: random.Random, plans: list[_UnitPlan], today: dt.date
) -> int:
    """Formal demands sent by EMS and signed by the owner, for most defaulters (L5)."""
    count = 0
    for plan in plans:
        if plan.behaviour not in (DEFAULTER, VACANT) or plan.transfer_on is not None:
            continue
        if plan.behaviour == VACANT and rng.random() < 0.5:
            continue
        if plan.legacy_months == 16 or (plan.legacy_months == 0 and rng.random() < 0.3):
            continue  # no demand yet: limitation runs from the due dates
        day = today - dt.timedelta(days=rng.randint(30, 300))
        charge_ids = list(session.scalars(
            select(Charge.id)
            .join(OwnershipParty, OwnershipParty.ownership_id == Charge.ownership_id)
            .where(Charge.unit_id == plan.unit.id, OwnershipParty.owner_id == plan.owners[0].id,
                   Charge.due_date < day, Charge.principal_outstanding > 0, Charge.reversed_on.is_(None))
            .order_by(Charge.due_date, Charge.id)
        ))
        if not charge_ids:
            continue
        interruptions.record_interruption(
            session, ACTOR, company.id, plan.unit.id, kind=InterruptionKind.DEMAND_DELIVERED,
            occurred_on=day, proof_ref=f"EMS {rng.randrange(10**12, 10**13)}", charge_ids=charge_ids,
            today=today, owner_id=plan.owners[0].id, delivery=DeliveryResult.SIGNED_BY_OWNER,
            proof_note="催告函经EMS寄至业主书面确认的送达地址，业主本人签收", source="demo",
        )
        count += 1
    return count


def _engine_demands(session: Session, company: Company, rng: random.Random, today: dt.date, count: int) -> int:
    """Walk some debtors through the real engine 60 days ago: the run prepared their demands, an
    accountant approved them, the letters went out by EMS and the owners signed for them three days
    later (L5). Today's run then finds the deadlines passed (L2), so the demo has cases at the notice,
    mediation and legal-ready stages, and filing packets can be drawn for them."""
    past = today - dt.timedelta(days=60)
    at = dt.datetime.combine(past, dt.time(9, 30), tzinfo=ZoneInfo(company.timezone))
    run = run_escalation(session, ACTOR, company.id, as_of=past, trigger="demo")
    demand_ids = list(session.scalars(
        select(EscalationAction.id).where(EscalationAction.run_id == run.run_id,
                                          EscalationAction.action == Action.DEMAND)
        .order_by(EscalationAction.id).limit(count)))
    review.approve_actions(session, ACTOR, company.id, demand_ids)
    outbox.queue_approved(session, ACTOR, company.id, now=at)
    escalation_letters.make_letter_batch(session, ACTOR, company.id, now=at)
    letters = session.execute(
        select(OutboundMessage.id, Owner.name).join(Owner, Owner.id == OutboundMessage.owner_id)
        .join(MessageAction, MessageAction.message_id == OutboundMessage.id)
        .where(MessageAction.action_id.in_(demand_ids), OutboundMessage.letter_batch_id.is_not(None))
        .distinct().order_by(OutboundMessage.id)).all()
    for message_id, owner_name in letters:
        delivery.record_delivery(
            session, ACTOR, company.id, message_id, result=DeliveryResult.SIGNED_BY_OWNER,
            occurred_on=past + dt.timedelta(days=3), today=today, signed_by=owner_name,
            tracking_number=f"EMS{rng.randrange(10**12, 10**13)}", source="demo",
            note="催告函经EMS寄出，业主本人签收")
    return len(letters)


def _add_months(day: dt.date, months: int) -> dt.date:
    """First day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
