"""The applicant of a case filed by staff is told of its steps by SMS: filed (with the
tracking code that opens the public tracking page), accepted, mediator assigned, closed.
Only the case number, the code, the status in plain words and the page's address: never a
handler's phone or anything about the other parties. The wording is the admin's
notifications.SmsTemplate (these defaults when it has none); the SMS waits in the outbox
like every other (quiet hours, sent at most once).

Not sent when no applicant gave a mobile number, when the filer unticked "tell the
applicant by SMS", or once the applicant turned SMS off on the tracking page. Residents'
own QR reports are not texted: they have their code and key from the report itself."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications.models import SmsTemplate
from notifications.services import sms_send

from .models import Case, CaseEvent
from .models_filing import CaseTracking

K = CaseEvent.Kind
E = SmsTemplate.Event
EVENTS = {K.FILED: E.FILED, K.ACCEPTED: E.ACCEPTED, K.ASSIGNED: E.ASSIGNED, K.CLOSED: E.CLOSED}
# What {status} says at each step, in the words a resident uses.
STATUS = {
    E.FILED: gettext_noop("registered and waiting to be accepted"),
    E.ACCEPTED: gettext_noop("accepted; a mediator is being arranged"),
    E.ASSIGNED: gettext_noop("a mediator has been arranged and is handling it"),
    E.CLOSED: gettext_noop("handled and closed"),
}
ON_THE_SPOT = gettext_noop("registered and resolved on the spot")
# The wording when the admin has no template for the step (the seeded ones say the same).
DEFAULT_TEXTS = {
    E.FILED: gettext_noop(
        "Your dispute (number {number}): {status}. Tracking code {code}, progress: {url} You "
        "can turn these SMS off on that page."
    ),
    E.ACCEPTED: gettext_noop(
        "Your dispute (number {number}): {status}. Tracking code {code}, progress: {url}"
    ),
    E.ASSIGNED: gettext_noop(
        "Your dispute (number {number}): {status}. Tracking code {code}, progress: {url}"
    ),
    E.CLOSED: gettext_noop(
        "Your dispute (number {number}): {status}. Thank you. Tracking code {code}, outcome: {url}"
    ),
}


def tracking_url(code: str) -> str:
    """The public tracking page of a code, on the address residents can reach
    (RESIDENT_PUBLIC_BASE_URL, as on the QR posters)."""
    base = str(getattr(settings, "RESIDENT_PUBLIC_BASE_URL", "")).rstrip("/")
    return f"{base}{reverse('resident_public:case', args=[code])}"


def _tracking(case: Case) -> CaseTracking | None:
    try:
        return case.tracking  # filing has it in hand; otherwise one query (a miss is kept)
    except CaseTracking.DoesNotExist:
        return None


def send(case: Case, sms_event: str, *, status: str | None = None) -> int:
    """Queue the applicant's SMS for one step, if they are to be told. Returns 0 or 1."""
    tracking = _tracking(case)
    if tracking is None or not tracking.texts:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        return sms_send(
            phone=tracking.phone,
            event=sms_event,
            default=_(DEFAULT_TEXTS[sms_event]),
            values={
                "number": case.number,
                "code": tracking.display_code,
                "status": _(status or STATUS[sms_event]),
                "url": tracking_url(tracking.code),
            },
        )


def tell(event: CaseEvent) -> None:
    """Called by ledger.append_event for every timeline entry; filing tells of itself
    (filing.case_file: it knows whether the case was resolved on the spot)."""
    sms_event = EVENTS.get(event.kind)
    if sms_event is None or sms_event == E.FILED:
        return
    send(event.case, sms_event)


def tell_filed(case: Case, *, on_the_spot: bool) -> int:
    return send(case, E.FILED, status=ON_THE_SPOT if on_the_spot else None)
