"""Every write of the residents app. Cases are filed, progressed and reopened through
disputes.services, so routing, numbering, SLA deadlines and the timeline are the same as
for any other case. Errors follow disputes: ValidationError (400), PermissionDenied (403),
Conflict (409, a TransitionError)."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from disputes import services as case_services
from disputes.models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    PartySide,
)
from grids.models import Area, Assignment, Role, User
from notifications.services import ASSIGNER_ROLES, notify

from . import conf, permissions
from .models import (
    REPORT_LEVELS,
    PublicUpdate,
    Rating,
    ReopenRequest,
    ResidentReport,
    Satisfaction,
    Topic,
)

# No 0/O, 1/I/L: read out over the phone without mistakes. 31^10 ≈ 8·10^14 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
# A repeat from the same phone for the same place within this window is flagged to staff
# as a possible duplicate; the resident still gets a report (and a code) of their own.
DUPLICATE_WINDOW = timedelta(hours=24)
# Timeline entries a handler may show the resident (their notes; never an internal outcome).
PUBLISHABLE_KINDS = (CaseEvent.Kind.PROGRESS, CaseEvent.Kind.RESOLVED, CaseEvent.Kind.CLOSED)
MOBILE = re.compile(r"^1[3-9]\d{9}$")


class Conflict(case_services.TransitionError):
    """The action is not possible in the current state (409); reuses the disputes error so
    the API's handler maps it without knowing this app."""

    def __init__(self, message: str):
        self.case = None
        self.message = message
        Exception.__init__(self, message)


def require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not do this for this case."))


# --- reporting -------------------------------------------------------------------------------


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not MOBILE.match(digits):
        raise ValidationError({"phone": [_("Enter an 11-digit mobile number, e.g. 13912345678.")]})
    return digits


def normalise_code(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def new_tracking_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not ResidentReport.objects.filter(tracking_code=code).exists():
            return code


def topic_category(topic: str) -> Category:
    """The dispute type a plain-language topic is filed under (see conf.TOPIC_CATEGORY_CODES)."""
    mapping = conf.topic_category_codes()
    codes, parent_code = mapping.get(topic, mapping[Topic.OTHER])
    active = Category.objects.filter(is_active=True, parent__isnull=False)
    by_code = {c.code: c for c in active.filter(code__in=[*codes, "1599"])}
    for code in codes:
        if code in by_code:
            return by_code[code]
    fallback = (
        active.filter(parent__code=parent_code).order_by("sort_order", "code").first()
        or by_code.get("1599")
        or active.order_by("parent__sort_order", "sort_order", "code").last()
    )
    if fallback is None:
        raise ValidationError(_("Reporting is not available yet: no dispute types are set up."))
    return fallback


def _photos_validate(photos) -> list:
    photos = [p for p in photos if p]
    errors = []
    if len(photos) > conf.max_photos():
        errors.append(_("Send at most %(n)d photos.") % {"n": conf.max_photos()})
    for photo in photos:
        try:
            _mime, kind = case_services.attachment_check(photo)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if kind != Attachment.Kind.PHOTO:
            name = getattr(photo, "name", "") or _("file")
            errors.append(_("“%(name)s” is not a photo.") % {"name": name})
    if errors:
        raise ValidationError({"photos": errors})
    return photos


def _cause(text: str) -> str:
    first_line = text.strip().splitlines()[0].strip()
    return first_line if len(first_line) <= 60 else f"{first_line[:59]}…"


def _open_report(phone: str, area: Area, now: datetime) -> ResidentReport | None:
    return (
        ResidentReport.objects.filter(
            phone=phone,
            case__area=area,
            case__status__in=OPEN_STATUSES,
            created_at__gte=now - DUPLICATE_WINDOW,
        )
        .select_related("case")
        .order_by("-created_at")
        .first()
    )


def report_validate(
    *, area: Area, topic: str, text: str, address: str, name: str, phone: str, photos=()
) -> dict:
    """Cleaned input or a ValidationError with every field's messages; saves nothing."""
    errors: dict[str, list] = {}
    if area.level not in REPORT_LEVELS:
        errors["area"] = [_("Reports are taken for communities, grids and micro-grids.")]
    if topic not in Topic.values:
        errors["topic"] = [_("Choose what the problem is about.")]
    text = (text or "").strip()
    if len(text) < 5:
        errors["text"] = [_("Tell us in a few words what happened.")]
    elif len(text) > 2000:
        errors["text"] = [_("Please keep it under 2000 characters.")]
    address = (address or "").strip()
    if not address:
        errors["address"] = [_("Where did it happen? Building, unit or street.")]
    elif len(address) > 200:
        errors["address"] = [_("The address is too long.")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Your name is needed so that we can contact you.")]
    elif len(name) > 50:
        errors["name"] = [_("The name is too long.")]
    try:
        phone = normalise_phone(phone)
    except ValidationError as exc:
        errors |= exc.message_dict
    try:
        photos = _photos_validate(photos)
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
    return {
        "area": area,
        "topic": topic,
        "text": text,
        "address": address,
        "name": name,
        "phone": phone,
        "photos": photos,
    }


def _handling_staff(case: Case) -> list[User]:
    """Who runs the new case's queue: the assigners there (a grid's own worker for a
    grid-level case), or the mediator once there is one."""
    if case.mediator_id:
        return [case.mediator]
    roles = (*ASSIGNER_ROLES, Role.MEDIATOR, Role.GRID_WORKER)
    ids = Assignment.objects.active().filter(area=case.handling_area_id, role__in=roles)
    return list(User.objects.filter(pk__in=ids.values("user_id")))


@transaction.atomic
def report_submit(
    *,
    area: Area,
    topic: str,
    text: str,
    address: str,
    name: str,
    phone: str,
    photos=(),
    ip: str | None = None,
) -> tuple[ResidentReport, str]:
    """File a resident's report as a case (channel "resident QR", the resident as applicant).
    Returns the report and its tracking key, which is shown once and stored only hashed.

    Every submission is a report of its own: knowing someone's phone number must never give
    access to their report. A repeat from the same phone for the same area within a day is
    linked for staff (duplicate_of), never merged."""
    data = report_validate(
        area=area, topic=topic, text=text, address=address, name=name, phone=phone, photos=photos
    )
    now = timezone.now()
    earlier = _open_report(data["phone"], area, now)
    case = case_services.case_file(
        actor=None,
        public=True,
        area=area,
        category=topic_category(topic),
        cause=_cause(data["text"]),
        description=data["text"],
        address=data["address"],
        channel=Channel.RESIDENT_QR,
        people_involved=1,
        parties=[{"side": PartySide.APPLICANT, "name": data["name"], "phone": data["phone"]}],
        photos=data["photos"],
    )
    key = new_tracking_key()
    report = ResidentReport.objects.create(
        case=case,
        tracking_code=new_tracking_code(),
        tracking_key_hash=hash_tracking_key(key),
        duplicate_of=earlier,
        topic=topic,
        name=data["name"],
        phone=data["phone"],
        ip_address=ip or None,
    )
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            users=_handling_staff(case),
            case=case,
            kind="resident_report",
            title=_("New resident report %(number)s") % {"number": case.number},
            body=f"{case.cause}\n{case.address}" + _duplicate_note(earlier),
        )
    return report, key


def _duplicate_note(earlier: ResidentReport | None) -> str:
    if earlier is None:
        return ""
    return "\n" + _("Possibly the same as %(number)s (same phone, same place, within a day).") % {
        "number": earlier.case.number
    }


# Unambiguous capitals and digits (no 0/O, 1/I/L): read out over the phone without errors.
KEY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
KEY_LENGTH = 12


def new_tracking_key() -> str:
    """The reporter's secret: 12 characters from 31 (about 59 bits), so guessing it online is
    hopeless and no lockout is needed that a stranger could trigger."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def normalise_key(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def hash_tracking_key(key: str) -> str:
    return hashlib.sha256(normalise_key(key).encode()).hexdigest()


def format_key(key: str) -> str:
    """ABCD-EFGH-JKMN: three groups of four."""
    return "-".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- public progress notes -------------------------------------------------------------------


@transaction.atomic
def public_note_add(*, case: Case, actor: User, note: str) -> PublicUpdate:
    """Post a progress update (as disputes.case_progress) and show it to the resident."""
    require(permissions.can_publish(actor, case))
    case_services.case_progress(case=case, actor=actor, note=note)
    # case_progress locked the case until this transaction ends, so the newest progress
    # entry is the one just written.
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PROGRESS).latest("id")
    case_services.case_record(
        case=case, kind=CaseEvent.Kind.PUBLISHED, actor=actor, note=event.note,
        data={"event": event.pk},
    )  # fmt: skip
    return PublicUpdate.objects.create(case=case, event=event, text=event.note, published_by=actor)


@transaction.atomic
def public_update_publish(*, event: CaseEvent, actor: User, text: str = "") -> PublicUpdate:
    """Show an existing timeline note to the resident, optionally in other words."""
    case = Case.objects.select_for_update(of=("self",)).select_related("handling_area")
    case = case.get(pk=event.case_id)
    require(permissions.can_publish(actor, case))
    if event.kind not in PUBLISHABLE_KINDS:
        message = _("Only progress, resolution and closing notes can be shown.")
        raise ValidationError({"event": [message]})
    text = (text or event.note or "").strip()
    if not text:
        raise ValidationError({"text": [_("There is nothing to show: the note is empty.")]})
    if PublicUpdate.objects.filter(event=event, withdrawn_at__isnull=True).exists():
        raise Conflict(_("This note is already shown to the resident."))
    case_services.case_record(
        case=case, kind=CaseEvent.Kind.PUBLISHED, actor=actor, note=text, data={"event": event.pk}
    )
    return PublicUpdate.objects.create(case=case, event=event, text=text, published_by=actor)


@transaction.atomic
def public_update_withdraw(*, update: PublicUpdate, actor: User) -> PublicUpdate:
    locked = PublicUpdate.objects.select_for_update(of=("self",))
    update = locked.select_related("case__handling_area").get(pk=update.pk)
    require(permissions.can_publish(actor, update.case))
    if update.withdrawn_at is not None:
        raise Conflict(_("This note is no longer shown."))
    update.withdrawn_at, update.withdrawn_by = timezone.now(), actor
    update.save(update_fields=["withdrawn_at", "withdrawn_by"])
    return update


# --- ratings and reopen requests ------------------------------------------------------------


def supervisors(case: Case) -> list[User]:
    """The nearest level at or above the handling area with an assigner who is not the
    handler: the handler's supervisor(s)."""
    area = case.handling_area
    paths = [area.path[:end] for end in range(area.steplen, len(area.path) + 1, area.steplen)]
    rows = (
        Assignment.objects.active()
        .filter(area__path__in=paths, role__in=ASSIGNER_ROLES)
        .exclude(user_id=case.mediator_id)
        .select_related("user", "area")
    )
    by_depth: dict[int, list[User]] = {}
    for row in rows:
        if row.user.is_active:
            by_depth.setdefault(len(row.area.path), []).append(row.user)
    return by_depth[max(by_depth)] if by_depth else []


@transaction.atomic
def rating_submit(*, report: ResidentReport, satisfaction: str, comment: str = "") -> Rating:
    """The resident rates a closed case; "unsatisfied" asks the supervisor to reopen it."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_area")
        .get(pk=report.case_id)
    )
    if case.status != CaseStatus.CLOSED:
        raise Conflict(_("The outcome can be rated once the case is closed."))
    comment = (comment or "").strip()
    errors = {}
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = [_("Choose how satisfied you are.")]
    if satisfaction == Satisfaction.UNSATISFIED and not comment:
        errors["comment"] = [_("Tell us what is still not resolved.")]
    if len(comment) > 1000:
        errors["comment"] = [_("Please keep it under 1000 characters.")]
    if errors:
        raise ValidationError(errors)
    if Rating.objects.filter(case=case, closed_at=case.closed_at).exists():
        raise Conflict(_("You have already rated this outcome. Thank you."))
    rating = Rating.objects.create(
        case=case,
        report=report,
        satisfaction=satisfaction,
        comment=comment,
        closed_at=case.closed_at,
    )
    case_services.case_record(
        case=case, kind=CaseEvent.Kind.RATED, actor=None, note=comment,
        data={"satisfaction": satisfaction, "label": str(Satisfaction(satisfaction).label)},
    )  # fmt: skip
    if satisfaction == Satisfaction.UNSATISFIED:
        with translation.override(settings.LANGUAGE_CODE):
            _reopen_request(case, rating)
    return rating


def _reopen_request(case: Case, rating: Rating):
    if ReopenRequest.objects.filter(case=case, status=ReopenRequest.Status.PENDING).exists():
        return None
    request = ReopenRequest.objects.create(case=case, rating=rating, reason=rating.comment)
    notify(
        users=supervisors(case),
        case=case,
        kind="reopen_request",
        title=_("Resident unsatisfied with case %(number)s: reopen?") % {"number": case.number},
        body=rating.comment,
    )
    return request


@transaction.atomic
def reopen_decide(
    *, request: ReopenRequest, actor: User, approve: bool, note: str = ""
) -> ReopenRequest:
    request = ReopenRequest.objects.select_for_update().get(pk=request.pk)
    case = Case.objects.select_related("handling_area").get(pk=request.case_id)
    require(permissions.supervises(actor, case))
    if request.status != ReopenRequest.Status.PENDING:
        raise Conflict(_("This request has already been decided."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the case stays closed.")]})
    if approve and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        reason = _("The resident is not satisfied: %(comment)s") % {"comment": request.reason}
        if note:
            reason = f"{reason}\n{note}"
        # case_reopen tells the mediator, the filer and the unit (disputes.handoffs).
        case = case_services.case_reopen(case=case, actor=actor, reason=reason)
    request.status = ReopenRequest.Status.APPROVED if approve else ReopenRequest.Status.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if not approve:
        case_services.case_record(
            case=case, kind=CaseEvent.Kind.REOPEN_REFUSED, actor=actor, note=note,
            data={"request": request.pk, "reason": request.reason},
        )  # fmt: skip
    return request
