"""A known month for the assessment tests (考核, March 2026), built through the services
with the clock moved, so every time point, on-time flag and deadline is what production
writes. The expected figures below are worked out by hand from the story, not by the code.

The demo district (渝中区): 解放碑街道 (S1: 民生路社区 C1, 五一路社区 C2, 新华路社区 C3),
七星岗街道 (S2: 通远门社区 C4 …), 大坪街道 (S3). Default policy: accept and assign within
24 h of filing, first progress within 24 h of assignment, close within 30 days. Local times.

  C1 民生路社区 (mediator 赵调解 unless said)
    a  03-02 09:00  assigned 03-02 15:00, progress 03-03 09:00, resolved 03-05 (agreement),
                    closed 03-06 (substantive); rated satisfied 03-07
    b  03-03 09:00  assigned 03-05 09:00 (late), progress 03-05 12:00, failed 03-08, closed
                    03-09 (procedural); rated unsatisfied 03-10
    c  03-10 09:00  assigned 03-10 10:00, never handled; dispatched to HOUSING 03-12 09:00,
                    never signed for
    e  03-20 09:00  accepted 03-20 10:00, never assigned
    f  03-12 09:00  resolved on the spot by the grid worker 张网格 (not closed)
    g  02-10 09:00  assigned 02-10 12:00, progress 02-11, open since (closing due 03-12
                    09:00); dispatched to HRSS 03-02 09:00, signed for 03-04 10:00 (late),
                    completion reported 03-11 (report due 03-12 09:00), verified
    n  02-05 09:00  assigned, progress, resolved 02-06, closed 03-03 09:00 (due 03-07)
    p  01-20 09:00  resolved 02-01, closed 02-02; drawn for a callback, reached 03-10
                    ("satisfied")
  C2 五一路社区 (mediator 周区中心, the district user)
    h  03-15 09:00  assigned 03-15 10:00, progress 03-15 11:00, resolved 03-16 (partial)
    i  03-16 09:00  withdrawn 03-16 10:00
    j  03-01 00:30  assigned 03-01 10:00, progress 03-01 12:00, referred 03-04 (closing
                    due 03-31 00:30)
    r  01-25 09:00  closed 02-03; drawn for a callback, not reached
  C4 通远门社区 (七星岗街道; mediator 周区中心)
    l  03-30 09:00  never accepted
    m  03-05 09:00  assigned 03-06 12:00 (late), progress 03-08 12:00 (late), resolved
                    03-20 09:00, closed 03-20 09:30; rated satisfied 03-21
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from disputes import services
from disputes.services import departments
from grids.models import Department
from residents.models import CallbackDraw, CallbackTask
from tests.dashboards.dashboard_world import World, act, file, rate

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
# When the monthly task runs (the 1st, 03:00).
TASK_TIME = datetime(2026, 4, 1, 3, 0, tzinfo=SHANGHAI)


def local(month, day, hour=9, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def _flow(w, key, filed, area, *, mediator, assigned=None, progress=None, resolved=None,
          outcome="agreement", closed=None):  # fmt: skip
    S = services
    d = w.district
    case = file(w, key, filed, area, "0203")
    if assigned:
        act(assigned, S.case_assign, case=case, mediator=mediator, actor=d)
    if progress:
        act(progress, S.case_progress, case=case, actor=d, note="调解")
    # The mediator resolves; someone else closes (where resolutions are checked, the one
    # who resolved a case may not close it).
    closer = w.admin if mediator == d else d
    if resolved:
        if outcome == "failed":
            act(resolved, S.case_record_outcome, case=case, actor=d, outcome="failed")
        else:
            act(resolved, S.case_resolve, case=case, actor=mediator, outcome=outcome)
    if closed:
        act(closed, S.case_close, case=case, actor=closer)
    return case


def build(w: World) -> World:
    S = services
    d = w.district
    c1, c2, c4 = "500103001001", "500103001002", "500103002001"
    med = w.mediator

    _flow(w, "a", local(3, 2), f"{c1}G01M01", mediator=med, assigned=local(3, 2, 15),
          progress=local(3, 3), resolved=local(3, 5), closed=local(3, 6))  # fmt: skip
    _flow(w, "b", local(3, 3), f"{c1}G01M01", mediator=med, assigned=local(3, 5),
          progress=local(3, 5, 12), resolved=local(3, 8), outcome="failed",
          closed=local(3, 9))  # fmt: skip
    c = _flow(w, "c", local(3, 10), f"{c1}G01M02", mediator=med, assigned=local(3, 10, 10))
    e = file(w, "e", local(3, 20), f"{c1}G02M01", "0203")
    act(local(3, 20, 10), S.case_accept, case=e, actor=d)
    file(w, "f", local(3, 12), f"{c1}G01M02", "0201", actor=w.gridworker,
         channel="grid_worker", resolved_on_spot=True, outcome_note="当场调解")  # fmt: skip
    g = _flow(w, "g", local(2, 10), f"{c1}G03M01", mediator=med, assigned=local(2, 10, 12),
              progress=local(2, 11))  # fmt: skip
    _flow(w, "n", local(2, 5), f"{c1}G03M02", mediator=med, assigned=local(2, 5, 10),
          progress=local(2, 5, 11), resolved=local(2, 6), closed=local(3, 3))  # fmt: skip
    _flow(w, "p", local(1, 20), f"{c1}G02M02", mediator=med, assigned=local(1, 20, 10),
          progress=local(1, 20, 11), resolved=local(2, 1), closed=local(2, 2))  # fmt: skip

    _flow(w, "h", local(3, 15), f"{c2}G01M01", mediator=d, assigned=local(3, 15, 10),
          progress=local(3, 15, 11), resolved=local(3, 16), outcome="partial")  # fmt: skip
    i = file(w, "i", local(3, 16), f"{c2}G01M01", "0203")
    act(local(3, 16, 10), S.case_withdraw, case=i, actor=d, reason="当事人撤回")
    j = _flow(w, "j", local(3, 1, 0, 30), f"{c2}G02M01", mediator=d, assigned=local(3, 1, 10),
              progress=local(3, 1, 12))  # fmt: skip
    act(local(3, 4), S.case_refer, case=j, actor=d, kind="litigation", note="转诉讼")
    _flow(w, "r", local(1, 25), f"{c2}G02M02", mediator=d, assigned=local(1, 25, 10),
          progress=local(1, 25, 11), resolved=local(2, 2), closed=local(2, 3))  # fmt: skip

    file(w, "l", local(3, 30), f"{c4}G01M01", "0203")
    _flow(w, "m", local(3, 5), f"{c4}G02M01", mediator=d, assigned=local(3, 6, 12),
          progress=local(3, 8, 12), resolved=local(3, 20), closed=local(3, 20, 9, 30))  # fmt: skip

    hrss, housing = Department.objects.get(code="HRSS"), Department.objects.get(code="HOUSING")
    act(local(3, 2), S.case_dispatch, case=g, actor=d, department=hrss, note="欠薪核查")
    act(local(3, 4, 10), departments.task_sign, case=g, actor=w.labour)
    act(local(3, 11), departments.task_report, case=g, actor=w.labour, note="已督促支付")
    act(local(3, 11, 12), departments.task_verify, case=g, actor=d, decision="pass")
    act(local(3, 12), S.case_dispatch, case=c, actor=d, department=housing, note="房屋核查")

    for key, when, answer in [("a", local(3, 7), "satisfied"),
                              ("b", local(3, 10), "unsatisfied"),
                              ("m", local(3, 21), "satisfied")]:  # fmt: skip
        rate(w, key, when, answer)
    draw = CallbackDraw.objects.create(
        street=w.s1, month=date(2026, 2, 1), seed=1, share=Decimal("0.30"),
        population_ids=[w.cases["p"].pk, w.cases["r"].pk],
        chosen_ids=[w.cases["p"].pk, w.cases["r"].pk],
    )  # fmt: skip
    CallbackTask.objects.create(
        draw=draw, case=w.cases["p"], street=w.s1, reason="sampled", closed_at=local(2, 2),
        status="done", reached=True, settled=True, satisfaction="satisfied",
        done_by=w.street, done_at=local(3, 10, 10), attempts=1,
    )  # fmt: skip
    CallbackTask.objects.create(
        draw=draw, case=w.cases["r"], street=w.s1, reason="sampled", closed_at=local(2, 3),
        status="unreached", attempts=1,
    )  # fmt: skip
    return w


# [done in time (or resolved, satisfied, reached), due (or concluded, answered, drawn)]
C1 = {
    "acceptance": [4, 5], "assignment": [3, 5], "first_handling": [2, 3], "closing": [1, 2],
    "verified_resolution": [2, 3], "satisfaction": [2, 3], "callback_coverage": [1, 1],
    "cards_answered": [0, 0], "cards_received": [0, None],
}  # fmt: skip
C2 = {
    "acceptance": [2, 2], "assignment": [2, 2], "first_handling": [2, 2], "closing": [1, 1],
    "verified_resolution": [0, 1], "satisfaction": [0, 0], "callback_coverage": [0, 1],
    "cards_answered": [0, 0], "cards_received": [0, None],
}  # fmt: skip
C4 = {
    "acceptance": [0, 2], "assignment": [0, 2], "first_handling": [0, 1], "closing": [0, 0],
    "verified_resolution": [1, 1], "satisfaction": [1, 1], "callback_coverage": [0, 0],
    "cards_answered": [0, 0], "cards_received": [0, None],
}  # fmt: skip
S1 = {
    "acceptance": [6, 7], "assignment": [5, 7], "first_handling": [4, 5], "closing": [2, 3],
    "verified_resolution": [2, 4], "satisfaction": [2, 3], "callback_coverage": [1, 2],
    "cards_answered": [0, 0], "cards_received": [0, None],
}  # fmt: skip
DISTRICT = {
    "acceptance": [6, 9], "assignment": [5, 9], "first_handling": [4, 6], "closing": [2, 3],
    "verified_resolution": [3, 5], "satisfaction": [3, 4], "callback_coverage": [1, 2],
    "cards_answered": [0, 0], "cards_received": [0, None],
}  # fmt: skip
# Scores with the default weights (acceptance 10, assignment 10, first handling 15, closing
# 20, verified resolution 20, satisfaction 15, callbacks 10; rates with nothing due left
# out), e.g. C1 = (10·4/5 + 10·3/5 + 15·2/3 + 20·1/2 + 20·2/3 + 15·2/3 + 10·1) / 100.
SCORES = {
    "C1": Decimal("67.33"), "C2": Decimal("64.71"), "C4": Decimal("50.00"),
    "S1": Decimal("66.05"), "S2": Decimal("50.00"), "district": Decimal("63.81"),
}  # fmt: skip
VOLUMES = {"C1": 5, "C2": 3, "C4": 2, "S1": 8, "S2": 2, "district": 10}
# Grid workers / mediators, per community: first handling, closing, verified resolution,
# satisfaction; volume = cases assigned to them in March.
PEOPLE = {
    ("mediator", "C1"): {"first_handling": [2, 3], "closing": [1, 2],
                         "verified_resolution": [2, 3], "satisfaction": [2, 3],
                         "volume": 3, "score": Decimal("61.90"), "rank": 3},
    ("district", "C2"): {"first_handling": [2, 2], "closing": [1, 1],
                         "verified_resolution": [0, 1], "satisfaction": [0, 0],
                         "volume": 2, "score": Decimal("63.64"), "rank": 2},
    ("district", "C4"): {"first_handling": [0, 1], "closing": [0, 0],
                         "verified_resolution": [1, 1], "satisfaction": [1, 1],
                         "volume": 1, "score": Decimal("70.00"), "rank": 1},
    ("gridworker", "C1"): {"first_handling": [0, 0], "closing": [0, 0],
                           "verified_resolution": [0, 0], "satisfaction": [0, 0],
                           "volume": 1, "score": None, "rank": None},
}  # fmt: skip
# Departments: sign-for on time, report on time, verified resolution of the cases they led.
DEPARTMENTS = {
    "HRSS": {"acceptance": [0, 1], "closing": [1, 1], "verified_resolution": [0, 0],
             "volume": 1, "score": Decimal("66.67"), "rank": 1},
    "HOUSING": {"acceptance": [0, 1], "closing": [0, 0], "verified_resolution": [0, 0],
                "volume": 1, "score": Decimal("0.00"), "rank": 2},
}  # fmt: skip
