"""Dispute categories (the 15 national people's-mediation types and the second-level types
seen in the source reports), their laws and typical cases, and a few demo cases."""

from django.db import transaction

from grids.models import Area, Department, Role, User

from . import services
from .models import Case, Category, Law, RiskLevel, TypicalCase

R = Role
# code, name, [(code, name, default risk, handling level, lead dept code, lead role, assisting)]
CATEGORIES = [
    ("01", "婚姻家庭", [
        ("0101", "离婚纠纷", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER, R.JUDGE]),
        ("0102", "子女抚养", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER]),
        ("0103", "赡养纠纷", "ordinary", "grid", None, R.GRID_WORKER, [R.MEDIATOR]),
    ]),
    ("02", "邻里纠纷", [
        ("0201", "楼道堆物", "ordinary", "grid", None, R.GRID_WORKER, [R.MICRO_GRID_HEAD]),
        ("0202", "噪音扰民", "ordinary", "grid", None, R.GRID_WORKER, [R.POLICE]),
        ("0203", "房屋漏水", "ordinary", "community", None, R.MEDIATOR, [R.GRID_WORKER]),
    ]),
    ("03", "房屋宅基地", [
        ("0301", "房屋交付延期", "major", "street", "HOUSING", R.STREET_STAFF, [R.LAWYER]),
        ("0302", "宅基地纠纷", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER]),
    ]),
    ("04", "合同纠纷", [
        ("0401", "土地租赁终止", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER]),
        ("0402", "买卖合同", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER]),
    ]),
    ("05", "生产经营", [
        ("0501", "商铺经营纠纷", "ordinary", "community", "MARKET", R.MEDIATOR, [R.GRID_WORKER]),
    ]),
    ("06", "损害赔偿", [
        ("0601", "施工漏水损害", "ordinary", "community", "WATER", R.MEDIATOR, [R.GRID_WORKER]),
        ("0602", "人身损害赔偿", "ordinary", "community", None, R.MEDIATOR, [R.POLICE, R.LAWYER]),
    ]),
    ("07", "山林土地", [
        ("0701", "土地承包经营", "ordinary", "community", None, R.MEDIATOR, [R.LAWYER]),
    ]),
    ("08", "征地拆迁", [
        ("0801", "拆迁补偿", "major", "street", "HOUSING", R.STREET_STAFF, [R.LAWYER, R.JUDGE]),
    ]),
    ("09", "环境污染", [
        ("0901", "油烟噪声污染", "ordinary", "community", "URBAN", R.MEDIATOR, [R.GRID_WORKER]),
    ]),
    ("10", "劳动争议", [
        ("1001", "拖欠工资", "ordinary", "community", "HRSS", "", [R.MEDIATOR, R.POLICE]),
        ("1002", "工伤赔偿", "ordinary", "community", "HRSS", "", [R.MEDIATOR, R.LAWYER]),
    ]),
    ("11", "消费纠纷", [
        ("1101", "教育培训退费", "ordinary", "community", "EDU", R.MEDIATOR, [R.LAWYER]),
        ("1102", "商品质量", "ordinary", "community", "MARKET", R.MEDIATOR, []),
    ]),
    ("12", "医疗纠纷", [
        ("1201", "医疗损害", "major", "street", "HEALTH", R.STREET_STAFF, [R.LAWYER, R.JUDGE]),
    ]),
    ("13", "道路交通事故", [
        ("1301", "交通事故赔偿", "ordinary", "community", None, R.MEDIATOR, [R.POLICE, R.LAWYER]),
    ]),
    ("14", "物业纠纷", [
        ("1401", "加装电梯费用分摊", "ordinary", "community", "HOUSING", R.COMMUNITY_SECRETARY,
         [R.MEDIATOR, R.LAWYER]),
        ("1402", "物业服务费", "ordinary", "community", None, R.MEDIATOR, [R.GRID_WORKER]),
    ]),
    ("15", "其他纠纷", [
        ("1501", "防范诈骗", "ordinary", "grid", "POLICE", R.GRID_WORKER, [R.POLICE]),
        ("1599", "其他", "ordinary", "community", None, R.MEDIATOR, []),
    ]),
]  # fmt: skip

MEDIATION_LAW = (
    "中华人民共和国人民调解法",
    "第三十一条",
    "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。",
)
LAWS = {
    "1001": [
        ("保障农民工工资支付条例", "第三条",
         "农民工有按时足额获得工资的权利。任何单位和个人不得拖欠农民工工资。"),
        ("中华人民共和国劳动合同法", "第三十条",
         "用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。"),
    ],
    "0201": [
        ("中华人民共和国民法典", "第二百八十八条",
         "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。"),
    ],
    "0203": [
        ("中华人民共和国民法典", "第二百八十八条",
         "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。"),
    ],
    "1401": [
        ("中华人民共和国民法典", "第二百七十八条",
         "改建、重建建筑物及其附属设施，应当由专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与表决，"
         "并经参与表决专有部分面积四分之三以上的业主且参与表决人数四分之三以上的业主同意。"),
    ],
}  # fmt: skip
TYPICAL_CASES = {
    "1001": [
        ("工地门口十余名工人讨薪",
         "某工地十余名工人聚集在工地门口讨要工资，现场调解未果。次日上午街道综治中心将风险等级提升为“较大”并上报区中心，"
         "区中心分拨至区人力社保局。",
         "当日中午人社、街道、社区联合调解成功，施工方当场制定支付计划并按期兑付。"),
    ],
    "1401": [
        ("老旧小区加装电梯费用分摊",
         "某小区248户居民和底商对加装电梯费用分摊意见不一，低楼层住户和商户反对。",
         "社区书记牵头、律师释法，按楼层系数分摊并对底商减免，形成书面调解协议，电梯如期开工。"),
    ],
    "0201": [
        ("楼道堆放杂物引发邻里争吵",
         "两户邻居因楼道堆放杂物多次争吵。",
         "网格员现场协调，双方当场清理楼道并约定轮流保洁，小事不出网格。"),
    ],
}  # fmt: skip


@transaction.atomic
def seed_categories():
    departments = {d.code: d for d in Department.objects.all()}
    for order, (code, name, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )
        for child_order, (c_code, c_name, risk, level, dept, lead_role, assisting) in enumerate(
            children
        ):
            category, created = Category.objects.get_or_create(
                code=c_code,
                defaults={
                    "name": c_name,
                    "parent": parent,
                    "default_risk": risk,
                    "default_handling_level": level,
                    "lead_department": departments.get(dept) if dept else None,
                    "lead_role": lead_role,
                    "assisting_roles": [str(r) for r in assisting],
                    "sort_order": child_order,
                },
            )
            if created:
                laws = [*LAWS.get(c_code, []), MEDIATION_LAW]
                Law.objects.bulk_create(
                    [Law(category=category, title=t, article=a, text=x) for t, a, x in laws]
                )
                TypicalCase.objects.bulk_create(
                    [
                        TypicalCase(category=category, title=t, summary=s, outcome=o)
                        for t, s, o in TYPICAL_CASES.get(c_code, [])
                    ]
                )


def seed_cases():

    if Case.objects.exists():
        return
    worker = User.objects.get(username="gridworker")
    secretary = User.objects.get(username="secretary")
    mediator = User.objects.get(username="mediator")
    micro = Area.objects.get(code="500103001001G01M01")
    grid = Area.objects.get(code="500103001001G01")
    cat = {c.code: c for c in Category.objects.all()}
    base = {"actor": worker, "channel": "grid_worker"}
    services.case_file(
        **base, area=micro, category=cat["1001"], cause="装修工地拖欠12名工人工资",
        address="民生路88号工地", people_involved=12, amount_involved=86000,
        parties=[{"side": "applicant", "name": "陈建国", "phone": "13912345678"},
                 {"side": "respondent", "kind": "organisation", "name": "某建筑劳务公司"}],
    )  # fmt: skip
    leak = services.case_file(
        **base, area=grid, category=cat["0203"], cause="楼上卫生间漏水至楼下",
        address="民生路12号3单元502", parties=[
            {"side": "applicant", "name": "李秀英", "phone": "13800001111"},
            {"side": "respondent", "name": "王强", "phone": "13800002222"}],
    )  # fmt: skip
    services.case_assign(case=leak, mediator=mediator, actor=secretary)
    services.case_progress(case=leak, actor=mediator, note="已上门查看，约定周五双方到场协商。")
    services.case_file(
        **base, area=micro, category=cat["0201"], cause="楼道堆放纸箱", address="民生路12号1单元",
        parties=[{"side": "applicant", "name": "赵大妈"}], resolved_on_spot=True,
        outcome_note="网格员现场协调，当场清理。",
    )  # fmt: skip
    services.case_file(
        **base, area=grid, category=cat["1401"], cause="加装电梯费用分摊意见不一",
        address="民生路20号", people_involved=248, risk_level=RiskLevel.MAJOR,
        parties=[{"side": "applicant", "name": "业主代表 刘明"},
                 {"side": "respondent", "name": "一楼商户 张老板"}],
    )  # fmt: skip


def seed():
    seed_categories()
    seed_cases()
    return {}
