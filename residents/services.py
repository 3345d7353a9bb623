"""Every write of the residents app. Cases are filed, progressed and reopened through
disputes.services, so routing, numbering, SLA deadlines and the timeline are the same as
for any other case. Errors follow disputes: ValidationError (400), PermissionDenied (403),
Conflict (409, a TransitionError)."""

import math
import random
import re
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from disputes import services as case_services
from disputes.attachments import ALLOWED_TYPES
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
from grids.models import Area, AreaLevel, Assignment, Role, User
from notifications.services import ASSIGNER_ROLES, notify

from . import conf, permissions
from .models import (
    REPORT_LEVELS,
    CallbackDraw,
    CallbackPolicy,
    CallbackTask,
    PublicUpdate,
    Rating,
    ReopenRequest,
    ResidentReport,
    ResidentSupplement,
    Satisfaction,
    Topic,
)

# No 0/O, 1/I/L: read out over the phone without mistakes. 31^10 ≈ 8·10^14 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MERGE_WINDOW = timedelta(hours=24)
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


def _require(allowed: bool):
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
            created_at__gte=now - MERGE_WINDOW,
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


def _size(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    return size


def _store_photos(case: Case, photos, event: CaseEvent):
    for photo in photos:
        mime, kind = case_services.attachment_check(photo)
        token = secrets.token_hex(16)
        attachment = Attachment(
            case=case,
            event=event,
            token=token,
            extension=ALLOWED_TYPES[mime][0],
            kind=kind,
            content_type=mime,
            size=_size(photo),
            original_name=(getattr(photo, "name", "") or "photo")[:200],
            uploaded_by=None,
        )
        attachment.file.save(f"{token}{attachment.extension}", photo, save=False)
        attachment.save()


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
) -> tuple[ResidentReport, bool]:
    """File a resident's report as a case (channel "resident QR", the resident as applicant).

    A second report from the same phone for the same area within 24 hours, while the first
    case is open, is added to that case instead (returns it with merged=True)."""
    data = report_validate(
        area=area, topic=topic, text=text, address=address, name=name, phone=phone, photos=photos
    )
    now = timezone.now()
    existing = _open_report(data["phone"], area, now)
    if existing is not None:
        _supplement(existing, data)
        return existing, True
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
    report = ResidentReport.objects.create(
        case=case,
        tracking_code=new_tracking_code(),
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
            body=f"{case.cause}\n{case.address}",
        )
    return report, False


def _supplement(report: ResidentReport, data: dict) -> ResidentSupplement:
    # Written for the staff while a resident (any language) is on the page: use the
    # product's language, not the resident's.
    with translation.override(settings.LANGUAGE_CODE):
        return _supplement_in_staff_language(report, data)


def _supplement_in_staff_language(report: ResidentReport, data: dict) -> ResidentSupplement:
    case = Case.objects.select_for_update(of=("self",)).get(pk=report.case_id)
    photos = data["photos"]
    note = data["text"]
    if data["address"] and data["address"] != case.address:
        note = f"{note}\n{_('Address')}: {data['address']}"
    event = CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.ATTACHMENT,
        actor=None,
        at=timezone.now(),
        from_status=case.status,
        to_status=case.status,
        note=note,
        data={"resident_supplement": True, "count": len(photos)},
    )
    _store_photos(case, photos, event)
    supplement = ResidentSupplement.objects.create(
        report=report,
        event=event,
        text=data["text"],
        address=data["address"],
        photo_count=len(photos),
    )
    notify(
        users=_handling_staff(case),
        case=case,
        kind="resident_supplement",
        title=_("The resident added to case %(number)s") % {"number": case.number},
        body=data["text"],
    )
    return supplement


# --- public progress notes -------------------------------------------------------------------


@transaction.atomic
def public_note_add(*, case: Case, actor: User, note: str) -> PublicUpdate:
    """Post a progress update (as disputes.case_progress) and show it to the resident."""
    _require(permissions.can_publish(actor, case))
    case_services.case_progress(case=case, actor=actor, note=note)
    # case_progress locked the case until this transaction ends, so the newest progress
    # entry is the one just written.
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PROGRESS).latest("id")
    return PublicUpdate.objects.create(case=case, event=event, text=event.note, published_by=actor)


@transaction.atomic
def public_update_publish(*, event: CaseEvent, actor: User, text: str = "") -> PublicUpdate:
    """Show an existing timeline note to the resident, optionally in other words."""
    case = Case.objects.select_for_update(of=("self",)).select_related("handling_area")
    case = case.get(pk=event.case_id)
    _require(permissions.can_publish(actor, case))
    if event.kind not in PUBLISHABLE_KINDS:
        message = _("Only progress, resolution and closing notes can be shown.")
        raise ValidationError({"event": [message]})
    text = (text or event.note or "").strip()
    if not text:
        raise ValidationError({"text": [_("There is nothing to show: the note is empty.")]})
    if PublicUpdate.objects.filter(event=event, withdrawn_at__isnull=True).exists():
        raise Conflict(_("This note is already shown to the resident."))
    return PublicUpdate.objects.create(case=case, event=event, text=text, published_by=actor)


@transaction.atomic
def public_update_withdraw(*, update: PublicUpdate, actor: User) -> PublicUpdate:
    locked = PublicUpdate.objects.select_for_update(of=("self",))
    update = locked.select_related("case__handling_area").get(pk=update.pk)
    _require(permissions.can_publish(actor, update.case))
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
    _require(permissions.supervises(actor, case))
    if request.status != ReopenRequest.Status.PENDING:
        raise Conflict(_("This request has already been decided."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the case stays closed.")]})
    if approve and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        reason = _("The resident is not satisfied: %(comment)s") % {"comment": request.reason}
        if note:
            reason = f"{reason}\n{note}"
        case = case_services.case_reopen(case=case, actor=actor, reason=reason)
        if case.mediator_id:
            notify(
                users=[case.mediator],
                case=case,
                kind="reopened",
                title=_("Case %(number)s reopened at the resident's request")
                % {"number": case.number},
                body=request.reason,
            )
    request.status = ReopenRequest.Status.APPROVED if approve else ReopenRequest.Status.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return request


# --- callbacks (回访) --------------------------------------------------------------------------


def month_start(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.replace(day=1)


def previous_month(today: date | None = None) -> date:
    first = month_start(today or timezone.localdate())
    return month_start(first - timedelta(days=1))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in local time."""
    start = month_start(month)
    following = month_start(start + timedelta(days=32))
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(following, datetime.min.time()), tz),
    )


def street_share(street: Area) -> Decimal:
    policy = CallbackPolicy.objects.filter(street=street).first()
    return policy.share if policy else conf.callback_share()


def callback_sample(
    *, population: list[int], required: list[int], share: Decimal, seed: int
) -> list[int]:
    """The cases to call back: every required one, plus a seeded random sample of the others
    so that at least ceil(share × population) of the population is covered. Pure and
    deterministic: the same arguments give the same ids."""
    population = sorted(set(population))
    required_set = set(required)
    target = math.ceil(Decimal(share) * len(population))
    covered = len(required_set.intersection(population))
    others = [pk for pk in population if pk not in required_set]
    extra = random.Random(seed).sample(others, min(max(target - covered, 0), len(others)))
    return sorted(required_set.union(extra))


def _closed_in(month: date, streets: list[Area]) -> dict[int, dict[int, datetime]]:
    """street id → {case id: closed_at} for cases closed in the month and still closed."""
    start, end = month_bounds(month)
    rows = Case.objects.filter(
        status=CaseStatus.CLOSED,
        closed_at__gte=start,
        closed_at__lt=end,
        street_id__in=[s.pk for s in streets],
    ).values_list("street_id", "pk", "closed_at")
    found: dict[int, dict[int, datetime]] = {}
    for street_id, pk, closed_at in rows:
        found.setdefault(street_id, {})[pk] = closed_at
    return found


def _unsatisfied(month: date, streets: list[Area]) -> dict[int, dict[int, datetime]]:
    """street id → {case id: closed_at} for closed cases whose current closing was rated
    unsatisfied, closed or rated in the month, and never called back about that closing.
    (A case closed on the 30th and rated on the 2nd is caught by the next month's draw.)"""
    start, end = month_bounds(month)
    called = CallbackTask.objects.filter(case=OuterRef("case"), closed_at=OuterRef("closed_at"))
    rows = (
        Rating.objects.filter(
            satisfaction=Satisfaction.UNSATISFIED,
            case__status=CaseStatus.CLOSED,
            case__street_id__in=[s.pk for s in streets],
        )
        .filter(closed_at=F("case__closed_at"))
        .filter(
            Q(closed_at__gte=start, closed_at__lt=end)
            | Q(created_at__gte=start, created_at__lt=end)
        )
        .filter(~Exists(called))
        .values_list("case__street_id", "case_id", "closed_at")
    )
    found: dict[int, dict[int, datetime]] = {}
    for street_id, pk, closed_at in rows:
        found.setdefault(street_id, {})[pk] = closed_at
    return found


def callback_draw_month(
    *, month: date, actor: User | None = None, seed: int | None = None, streets=None
) -> list[tuple[CallbackDraw, bool]]:
    """Draw every street's callbacks for a month: [(draw, created)]. Idempotent: a street
    already drawn for the month keeps its draw and gets no new tasks."""
    month = month_start(month)
    if month >= month_start(timezone.localdate()):
        raise ValidationError({"month": [_("Only a month that has ended can be drawn.")]})
    streets = list(streets if streets is not None else Area.objects.filter(level=AreaLevel.STREET))
    done = dict(
        CallbackDraw.objects.filter(month=month, street__in=streets).values_list("street_id", "pk")
    )
    todo = [s for s in streets if s.pk not in done]
    closed = _closed_in(month, todo)
    unsatisfied = _unsatisfied(month, todo)
    results = [(CallbackDraw.objects.get(pk=pk), False) for pk in done.values()]
    for street in todo:
        results.append(
            _draw_street(
                street=street,
                month=month,
                actor=actor,
                seed=seed if seed is not None else secrets.randbits(62),
                closed=closed.get(street.pk, {}),
                unsatisfied=unsatisfied.get(street.pk, {}),
            )
        )
    return results


def _draw_street(*, street, month, actor, seed, closed, unsatisfied) -> tuple[CallbackDraw, bool]:
    share = street_share(street)
    chosen = callback_sample(
        population=list(closed), required=list(unsatisfied), share=share, seed=seed
    )
    closings = {**closed, **unsatisfied}
    try:
        with transaction.atomic():
            draw = CallbackDraw.objects.create(
                street=street,
                month=month,
                seed=seed,
                share=share,
                population_ids=sorted(closed),
                required_ids=sorted(unsatisfied),
                chosen_ids=chosen,
                created_by=actor,
            )
            CallbackTask.objects.bulk_create(
                [
                    CallbackTask(
                        draw=draw,
                        case_id=pk,
                        street=street,
                        closed_at=closings[pk],
                        reason=CallbackTask.Reason.UNSATISFIED
                        if pk in unsatisfied
                        else CallbackTask.Reason.SAMPLED,
                    )
                    for pk in chosen
                ]
            )
            if chosen:
                callers = Assignment.objects.active().filter(
                    area=street, role__in=(Role.STREET_STAFF, Role.STREET_LEADER)
                )
                notify(
                    users=User.objects.filter(pk__in=callers.values("user_id")),
                    case=None,
                    kind="callbacks_drawn",
                    title=_("%(count)d callbacks to make for %(month)s")
                    % {"count": len(chosen), "month": f"{month:%Y-%m}"},
                )
    except IntegrityError:
        # Another worker drew this street first; theirs stands.
        return CallbackDraw.objects.get(street=street, month=month), False
    return draw, True


@transaction.atomic
def callback_record(
    *,
    task: CallbackTask,
    actor: User,
    reached: bool,
    settled: bool | None = None,
    satisfaction: str = "",
    notes: str = "",
) -> CallbackTask:
    """Record one call. Not reached: try again later. "Not really settled": the case is
    reopened through disputes.case_reopen."""
    locked = CallbackTask.objects.select_for_update(of=("self",)).select_related("street")
    task = locked.get(pk=task.pk)
    _require(permissions.does_callbacks(actor, task.street))
    if task.status == CallbackTask.Status.DONE:
        raise Conflict(_("This callback has already been recorded."))
    notes = (notes or "").strip()
    errors = {}
    if not isinstance(reached, bool):
        errors["reached"] = [_("Say whether the resident was reached.")]
    elif reached:
        if not isinstance(settled, bool):
            errors["settled"] = [_("Say whether the dispute is really settled.")]
        if satisfaction not in Satisfaction.values:
            errors["satisfaction"] = [_("Choose how satisfied the resident is.")]
    elif settled is not None or satisfaction:
        errors["reached"] = [_("A resident who was not reached cannot answer.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    task.attempts += 1
    task.reached, task.done_by, task.done_at = reached, actor, now
    task.notes = f"{task.notes}\n{notes}".strip() if task.notes and notes else (notes or task.notes)
    if reached:
        task.status, task.settled, task.satisfaction = (
            CallbackTask.Status.DONE,
            settled,
            satisfaction,
        )
    else:
        task.status = CallbackTask.Status.UNREACHED
    case = Case.objects.select_related("handling_area").get(pk=task.case_id)
    if reached and settled is False and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        reason = _("Callback: the dispute is not really settled.")
        case_services.case_reopen(case=case, actor=actor, reason=f"{reason}\n{notes}".strip())
        task.reopened = True
    task.save()
    return task
