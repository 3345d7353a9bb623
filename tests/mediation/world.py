"""The mediation tests' world: the demo district (tests/disputes/test_api.py's module-scoped
seed), a leaking-ceiling case assigned to the community's mediator, and helpers that take
it through sessions, an agreement and its signatures.

People: `mediator` mediates it; `secretary` runs the community's queue (may act too);
`judge` is paired with the community and sees the case but may not act on it (403);
`gridworker2` works in another street and does not see it (404)."""

import io
from datetime import timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from mediation import services
from mediation.models import Agreement
from tests.disputes.test_api import case_in

__all__ = ["assigned_case", "case_in", "drawn_png", "make_agreement", "sign_everyone"]


def assigned_case(w):
    return case_in(w, "assigned")


def drawn_png(size=(300, 120)) -> bytes:
    """A signature-like PNG: a black stroke on a transparent canvas."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 90), (80, 20), (150, 100), (280, 30)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def obligation_rows(case, *, days=10, amount="12000.00"):
    side = {p.side: p for p in case.parties.all()}
    due = timezone.localdate() + timedelta(days=days)
    return [
        {
            "party": side["respondent"].pk,
            "description": "支付维修费用",
            "amount": amount,
            "due_on": due,
            "manner": "银行转账",
        },
        {
            "party": side["applicant"].pk,
            "description": "配合入户查看漏水点",
            "amount": None,
            "due_on": due,
            "manner": "预约上门",
        },
    ]


def make_agreement(w, case=None, **extra) -> Agreement:
    case = case or assigned_case(w)
    return services.agreement_create(
        case=case,
        actor=w.mediator,
        facts="2026年11月，王强家卫生间漏水至楼下李秀英家，造成吊顶损坏。",
        disputed_items="维修费用由谁承担。",
        obligations=obligation_rows(case, **extra),
    )


def sign_everyone(w, agreement: Agreement) -> Agreement:
    for party in agreement.case.parties.all():
        services.signature_add(
            agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
        )
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer="mediator", image=drawn_png()
    )
    return Agreement.objects.get(pk=agreement.pk)
