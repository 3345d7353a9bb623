"""A known set of cases for the dashboard and stats API tests, built through the services with
the clock moved, so every time point, on-time flag and deadline is what production writes.

The demo district (渝中区): 解放碑街道 (S1: 民生路社区 C1, 五一路社区 C2, 新华路社区 C3),
七星岗街道 (S2: 通远门社区 …) and 大坪街道 (S3). "Now" is 2026-04-20 10:00 in Shanghai; the
default period is April 1–20. Cases (local times):

  S1 / C1 民生路社区
    a  04-02 09:00  G01M01 民生路1号  0203 grid_worker   assigned in time, handled in time,
                    resolved 04-05, closed 04-06 (substantive, in time)
    b  04-03 09:00  G01M01 民生路1号  0203 hotline       assigned late (04-05), handled in
                    time, mediation failed, closed 04-09 (procedural)
    c  04-10 09:00  G01M01 民生路1号  0203 resident_qr   assigned in time, never handled →
                    orange "not handled"
    d  04-19 12:00  G02 (the grid)   1001 grid_worker   12 people; waiting, 2 h left → green,
                    due within 24 h
    e  04-08 09:00  G02M01 民生路2号  1401 reception_day 30 people; accepted, never assigned →
                    orange "not assigned"
    f  04-12 09:00  G01M02 民生路3号  0201 grid_worker   resolved on the spot by the grid worker
    g  03-10 09:00  G03M01           0101 hotline       assigned, handled, stuck → red
    n  03-05 09:00  G03M02           0203 hotline       resolved 03-06, closed 03-07
  S1 / C2 五一路社区
    h  04-15 09:00  G01M01 五一路5号  1301 police_referral resolved 04-16 (partial), not closed
    i  04-16 09:00  G01M01           1101 online        withdrawn 04-16
    j  04-01 00:30  G02M01           0402 hotline       referred to litigation 04-04 (UTC: March!)
    k  03-21 22:00  G01M02           0203 hotline       handled, open; closing deadline 04-20
                    22:00 → green, due within 24 h
  S2 / 通远门社区
    l  04-18 09:00  G01M01           0202 hotline       waiting since, overdue → orange
    m  04-05 09:00  G02M01           0203 hotline       assigned late, handled late, resolved
                    04-20 09:00, closed 04-20 09:30

Residents' answers (satisfaction rate, 满意率; counted by when they answered):
    n  03-08 basically satisfied    a  04-07 satisfied    b  04-10 unsatisfied
    m  04-20 09:45 satisfied (七星岗街道)
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from django.test import override_settings

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Case, Category
from grids.demo import seed as seed_demo
from grids.models import Area, User
from residents import services as resident_services
from residents.models import ResidentReport

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 20, 10, 0, tzinfo=SHANGHAI)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def local(month, day, hour=9, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class World:
    def __init__(self):
        self.users = {u.username: u for u in User.objects.all()}
        self.areas = {a.code: a for a in Area.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.district_area = self.areas["500103"]
        self.s1, self.s2, self.s3 = (self.areas[f"500103{n:03d}"] for n in (1, 2, 3))
        self.c1, self.c2, self.c3 = (self.areas[f"500103001{n:03d}"] for n in (1, 2, 3))
        self.cases: dict[str, Case] = {}

    def __getattr__(self, username):
        try:
            return self.__dict__["users"][username]
        except KeyError:
            raise AttributeError(username) from None

    def case(self, key) -> Case:
        return Case.objects.get(pk=self.cases[key].pk)


def _at(when):
    return time_machine.travel(when, tick=False)


def file(w: World, key, when, area_code, category, *, actor=None, address=None, **extra):
    with _at(when):
        case = services.case_file(
            actor=actor or w.district,
            area=w.areas[area_code],
            category=w.categories[category],
            cause=f"纠纷{key}：{w.categories[category].name}",
            address=address or f"{w.areas[area_code].name}{key}号",
            parties=[{"side": "applicant", "name": f"当事人{key}"}],
            **({"channel": "hotline"} | extra),
        )
    w.cases[key] = case
    return case


def act(when, service, **kwargs):
    with _at(when):
        return service(**kwargs)


def build(w: World) -> World:
    S = services
    d = w.users["district"]
    c1 = "500103001001"
    c2 = "500103001002"
    s2c = "500103002001"

    a = file(w, "a", local(4, 2), f"{c1}G01M01", "0203", address="民生路1号",
             channel="grid_worker")  # fmt: skip
    act(local(4, 2, 15), S.case_assign, case=a, mediator=w.mediator, actor=d)
    act(local(4, 3, 9), S.case_progress, case=a, actor=d, note="上门查看")
    act(local(4, 5, 10), S.case_resolve, case=a, actor=w.mediator, outcome="agreement")
    act(local(4, 6, 10), S.case_close, case=a, actor=d)

    b = file(w, "b", local(4, 3), f"{c1}G01M01", "0203", address="民生路1号")
    act(local(4, 5, 9), S.case_assign, case=b, mediator=w.mediator, actor=d)
    act(local(4, 5, 12), S.case_progress, case=b, actor=d, note="调解")
    act(local(4, 8), S.case_record_outcome, case=b, actor=d, outcome="failed")
    act(local(4, 9), S.case_close, case=b, actor=d)

    c = file(w, "c", local(4, 10), f"{c1}G01M01", "0203", address="民生路1号",
             channel="resident_qr")  # fmt: skip
    act(local(4, 10, 10), S.case_assign, case=c, mediator=w.mediator, actor=d)

    file(w, "d", local(4, 19, 12), f"{c1}G02", "1001", address="民生路88号工地",
         channel="grid_worker", people_involved=12)  # fmt: skip

    e = file(w, "e", local(4, 8), f"{c1}G02M01", "1401", address="民生路2号",
             channel="reception_day", people_involved=30)  # fmt: skip
    act(local(4, 8, 10), S.case_accept, case=e, actor=d)

    file(w, "f", local(4, 12), f"{c1}G01M02", "0201", actor=w.gridworker, address="民生路3号",
         channel="grid_worker", resolved_on_spot=True, outcome_note="当场清理")  # fmt: skip

    g = file(w, "g", local(3, 10), f"{c1}G03M01", "0101")
    act(local(3, 10, 12), S.case_assign, case=g, mediator=w.mediator, actor=d)
    act(local(3, 11, 9), S.case_progress, case=g, actor=d, note="约谈")

    n = file(w, "n", local(3, 5), f"{c1}G03M02", "0203")
    act(local(3, 5, 10), S.case_assign, case=n, mediator=w.mediator, actor=d)
    act(local(3, 5, 11), S.case_progress, case=n, actor=d, note="调解")
    act(local(3, 6), S.case_resolve, case=n, actor=w.mediator, outcome="agreement")
    act(local(3, 7), S.case_close, case=n, actor=d)

    h = file(w, "h", local(4, 15), f"{c2}G01M01", "1301", address="五一路5号",
             channel="police_referral")  # fmt: skip
    act(local(4, 15, 10), S.case_assign, case=h, mediator=w.district, actor=d)
    act(local(4, 15, 11), S.case_progress, case=h, actor=d, note="调解")
    act(local(4, 16), S.case_resolve, case=h, actor=d, outcome="partial")
    # Resolved where the policy asks for no check (核查): it counts as resolved as it is. (A
    # resolution waiting for its check does not; see test_close_checks and awaiting_check.)
    Case.objects.filter(pk=h.pk).update(verify_due_at=None)

    i = file(w, "i", local(4, 16), f"{c2}G01M01", "1101", channel="online")
    act(local(4, 16, 10), S.case_withdraw, case=i, actor=d, reason="当事人撤回")

    j = file(w, "j", local(4, 1, 0, 30), f"{c2}G02M01", "0402")
    act(local(4, 1, 10), S.case_assign, case=j, mediator=w.district, actor=d)
    act(local(4, 1, 12), S.case_progress, case=j, actor=d, note="调解")
    act(local(4, 4), S.case_refer, case=j, actor=d, kind="litigation", note="转诉讼")

    k = file(w, "k", local(3, 21, 22), f"{c2}G01M02", "0203")
    act(local(3, 22, 9), S.case_assign, case=k, mediator=w.street, actor=d)
    act(local(3, 22, 10), S.case_progress, case=k, actor=d, note="调解")

    file(w, "l", local(4, 18), f"{s2c}G01M01", "0202")

    m = file(w, "m", local(4, 5), f"{s2c}G02M01", "0203")
    act(local(4, 6, 12), S.case_assign, case=m, mediator=w.district, actor=d)
    act(local(4, 8, 12), S.case_progress, case=m, actor=d, note="调解")
    act(local(4, 20, 9), S.case_resolve, case=m, actor=d, outcome="agreement")
    # Checked by someone other than who resolved it.
    act(local(4, 20, 9, 30), S.case_close, case=m, actor=w.users["admin"])

    for key, when, answer in [("n", local(3, 8, 10), "basically_satisfied"),
                              ("a", local(4, 7, 10), "satisfied"),
                              ("b", local(4, 10, 10), "unsatisfied"),
                              ("m", local(4, 20, 9, 45), "satisfied")]:  # fmt: skip
        rate(w, key, when, answer)
    return w


def rate(w: World, key, when, answer):
    """The resident of a closed case rates its outcome. Staff filed these cases, so the
    resident's contact (what a QR report would have stored) is added first."""
    report = ResidentReport.objects.create(
        case=w.cases[key], tracking_code=f"D{w.cases[key].pk:015d}", topic="neighbours",
        name=f"当事人{key}", phone=f"138{w.cases[key].pk:08d}",
    )  # fmt: skip
    comment = "还没解决" if answer == "unsatisfied" else ""
    act(when, resident_services.rating_submit, report=report, satisfaction=answer,
        comment=comment)  # fmt: skip


def seeded_world(django_db_blocker):
    """Generator for a module-scoped fixture: the world inside an outer transaction that is
    rolled back at the end of the module (each test runs in a savepoint within it)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            # People are assigned before the story starts (assignments have a start date).
            with _at(local(1, 1)):
                seed_demo()
                seed_categories()
            yield build(World())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# What the street centre of 解放碑街道 (S1) must see now, for April 1–20.
S1_APRIL = {
    "filed": 9, "withdrawn": 1, "counted": 8, "resolved": 3, "concluded": 5,
    "resolution_rate": 0.375, "closing_rate": 0.625,
    "assign_in_time": 5, "assign_due": 7, "first_handling_in_time": 5, "first_handling_due": 6,
    "closing_in_time": 5, "closing_due": 5,
    "open": 5, "red": 1, "orange": 2, "green": 2,
    "not_assigned": 1, "not_handled": 1, "past_close": 1, "due_soon": 2, "unassigned": 2,
    "group_disputes": 2,
}  # fmt: skip
S1_MARCH = {
    "filed": 3, "withdrawn": 0, "counted": 3, "resolved": 1, "concluded": 1,
    "assign_in_time": 3, "assign_due": 3, "first_handling_in_time": 3, "first_handling_due": 3,
    "closing_in_time": 1, "closing_due": 2, "group_disputes": 0,
    # The open cases now do not depend on the period.
    "open": 5, "red": 1, "orange": 2, "green": 2, "unassigned": 2, "due_soon": 2,
}  # fmt: skip
DISTRICT_APRIL = {
    "filed": 11, "withdrawn": 1, "counted": 10, "resolved": 4, "concluded": 6,
    "assign_in_time": 5, "assign_due": 9, "first_handling_in_time": 5, "first_handling_due": 7,
    "closing_in_time": 6, "closing_due": 6,
    "open": 6, "red": 1, "orange": 3, "green": 2, "unassigned": 3, "due_soon": 2,
    "not_assigned": 2, "not_handled": 1, "past_close": 1, "group_disputes": 2,
}  # fmt: skip
# Satisfaction rate by area and period, from the residents' answers above.
SATISFACTION = {
    ("s1", "april"): 0.5,  # a satisfied, b unsatisfied
    ("s1", "march"): 1.0,  # n basically satisfied
    ("s1", "march-april"): round(2 / 3, 4),
    ("c1", "april"): 0.5,
    ("c2", "april"): None,  # nobody answered
    ("s2", "april"): 1.0,  # m
    ("district", "april"): round(2 / 3, 4),  # a, b, m
}
# The street's communities (S1's children), April.
S1_BY_COMMUNITY = {
    "民生路社区": {"filed": 6, "withdrawn": 0, "resolved": 2, "concluded": 3, "open": 4,
                   "red": 1, "orange": 2, "green": 1, "unassigned": 2},
    "五一路社区": {"filed": 3, "withdrawn": 1, "resolved": 1, "concluded": 2, "open": 1,
                   "red": 0, "orange": 0, "green": 1, "unassigned": 0},
    "新华路社区": {"filed": 0, "withdrawn": 0, "resolved": 0, "concluded": 0, "open": 0,
                   "red": 0, "orange": 0, "green": 0, "unassigned": 0},
}  # fmt: skip
S1_BY_CATEGORY = [("邻里纠纷", 4, 2), ("道路交通事故", 1, 1), ("合同纠纷", 1, 0),
                  ("劳动争议", 1, 0), ("消费纠纷", 1, 0), ("物业纠纷", 1, 0)]  # fmt: skip
S1_BY_CHANNEL = {"grid_worker": 3, "hotline": 2, "resident_qr": 1, "reception_day": 1,
                 "police_referral": 1, "online": 1}  # fmt: skip
# (day of April, filed, resolved) for the days with cases; every other day is 0, 0.
S1_TREND = {1: (1, 0), 2: (1, 1), 3: (1, 0), 8: (1, 0), 10: (1, 0), 12: (1, 1), 15: (1, 1),
            16: (1, 0), 19: (1, 0)}  # fmt: skip
