"""Mediation sessions: scheduled with the parties summoned by SMS, then held and recorded."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from common.errors import StateConflict
from notifications.services import notify, sms_send

from ..models import Attendance, MediationSession, SessionStatus
from .common import MEDIATING, locked_case, record

SUMMONS_DEFAULT = "【调解通知】{name}您好：请于{time}到{place}参加“{cause}”纠纷第{number}次调解。"


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


@transaction.atomic
def session_schedule(
    *,
    case,
    actor,
    starts_at,
    place: str = "",
    online: bool = False,
    online_link: str = "",
    mediators,
    invited=(),
) -> MediationSession:
    errors = {}
    if starts_at is None:
        errors["starts_at"] = [_("Give the date and time.")]
    if not online and not place.strip():
        errors["place"] = [_("Give the place, or mark the session as online.")]
    if online and not online_link.strip():
        errors["online_link"] = [_("Give the online meeting link or room number.")]
    mediators = list(mediators)
    if not mediators:
        errors["mediators"] = [_("Choose at least one mediator.")]
    if errors:
        raise ValidationError(errors)
    case = locked_case(case, actor, MEDIATING, _("given a mediation session"))
    number = MediationSession.objects.filter(case=case).count() + 1
    session = MediationSession.objects.create(
        case=case,
        number=number,
        starts_at=starts_at,
        place=place.strip(),
        online=online,
        online_link=online_link.strip(),
        created_by=actor,
    )
    invited = [u for u in invited if u not in mediators]
    session.mediators.set(mediators)
    session.invited.set(invited)
    now = timezone.now()
    parties = list(case.parties.all())
    where = session.online_link if online else session.place
    summoned = []
    for party in parties:
        if party.phone:
            sms_send(
                phone=party.phone,
                event="mediation_summons",
                default=SUMMONS_DEFAULT,
                values={
                    "name": party.name,
                    "time": _when(starts_at),
                    "place": where,
                    "cause": case.cause[:30],
                    "number": str(number),
                },
            )
            summoned.append(party.pk)
    Attendance.objects.bulk_create(
        [
            Attendance(session=session, party=p, summoned_at=now if p.pk in summoned else None)
            for p in parties
        ]
        + [Attendance(session=session, user=u) for u in [*mediators, *invited]]
    )
    note = _("Session %(number)s on %(when)s at %(where)s") % {
        "number": number,
        "when": _when(starts_at),
        "where": where,
    }
    record(case, actor, "session_scheduled", note, session=session.pk, summoned=len(summoned))
    notify(
        users=[u for u in [*mediators, *invited] if u.pk != actor.pk],
        case=case,
        kind="case_mediation_session",
        title=_("Mediation session for %(number)s: %(when)s")
        % {
            "number": case.number,
            "when": _when(starts_at),
        },
        body=where,
    )
    return session


@transaction.atomic
def session_record(
    *, session: MediationSession, actor, record_text: str, present: set[int], version: int
) -> MediationSession:
    """The record typed on the spot, and who came. `present`: attendance ids. A form opened
    before another save (`version` behind) is refused: the newer record is not overwritten."""
    if not record_text.strip():
        raise ValidationError({"record": [_("Write the record of the session.")]})
    case = locked_case(session.case, actor, MEDIATING, _("given a session record"))
    session = MediationSession.objects.select_for_update().get(pk=session.pk)
    if session.status == SessionStatus.CANCELLED:
        raise StateConflict(_("This session was cancelled."))
    if session.version != version:
        raise StateConflict(
            _("Someone saved this record after you opened it; reload to see their version.")
        )
    first = session.status == SessionStatus.SCHEDULED
    session.record = record_text.strip()
    session.status = SessionStatus.HELD
    session.recorded_by, session.recorded_at = actor, timezone.now()
    session.version += 1
    session.save(
        update_fields=["record", "status", "recorded_by", "recorded_at", "version", "updated_at"]
    )
    rows = list(session.attendance.all())
    for row in rows:
        row.present = row.pk in present
    Attendance.objects.bulk_update(rows, ["present"])
    came = sum(1 for r in rows if r.present)
    note = (
        _("Session %(number)s held, record taken (%(came)s of %(asked)s present)")
        if first
        else _("Record of session %(number)s corrected (%(came)s of %(asked)s present)")
    )
    record(
        case,
        actor,
        "session_recorded" if first else "session_corrected",
        note % {"number": session.number, "came": came, "asked": len(rows)},
        session=session.pk,
    )
    return session


CANCEL_DEFAULT = "【调解通知】{name}您好：原定{time}的“{cause}”纠纷第{number}次调解取消，另行通知。"


@transaction.atomic
def session_cancel(*, session: MediationSession, actor, reason: str) -> MediationSession:
    """Call off a session that has not been held: the parties who were summoned are told by
    SMS, the staff in the inbox."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the session is called off.")]})
    case = locked_case(session.case, actor, MEDIATING, _("given a cancelled session"))
    session = MediationSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.SCHEDULED:
        raise StateConflict(_("Only a session not held yet can be called off."))
    session.status = SessionStatus.CANCELLED
    session.version += 1
    session.save(update_fields=["status", "version", "updated_at"])
    rows = list(session.attendance.select_related("party", "user"))
    for row in rows:
        if row.party_id and row.summoned_at and row.party.phone:
            sms_send(
                phone=row.party.phone,
                event="mediation_cancelled",
                default=CANCEL_DEFAULT,
                values={
                    "name": row.party.name,
                    "time": _when(session.starts_at),
                    "cause": case.cause[:30],
                    "number": str(session.number),
                },
            )
    note = _("Session %(number)s called off: %(reason)s") % {
        "number": session.number,
        "reason": reason.strip(),
    }
    record(case, actor, "session_cancelled", note, session=session.pk)
    notify(
        users=[r.user for r in rows if r.user_id and r.user_id != actor.pk],
        case=case,
        kind="case_mediation_session",
        title=_("Mediation session called off: %(number)s") % {"number": case.number},
        body=reason.strip(),
    )
    return session
