"""Filing a case: number, routing, deadlines, parties and photos in one transaction."""

import hashlib
import json
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from common.errors import StateConflict
from common.limits import FILES_MAX, PARTIES_MAX, TEXT_MAX, too_long
from grids.models import Area, User
from sla import clock
from sla.models import SlaCheck

from .. import party_sms, permissions
from ..attachments import store_attachments, validate_attachments
from ..ledger import (
    append_event,
    require,
    save_case,
)
from ..models import (
    ID_NUMBER_MAX,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Category,
    FilingKey,
    Outcome,
    Party,
    PartyKind,
    PartySide,
    RiskLevel,
)
from ..routing import (
    ancestor_ids,
    route,
)
from .tracking import tracking_open

S = CaseStatus


def _next_number(year: int) -> str:
    """The year's next case number (JF2026-000123).

    On PostgreSQL, a sequence per year: `nextval` takes no lock that lasts to commit, so
    concurrent filings never wait for each other. Numbers are distinct, but a filing that
    rolls back (refused input found late, a lost idempotency race) leaves its number unused:
    the year's numbers can have gaps, like any database sequence. Elsewhere (SQLite, which
    serialises writers anyway) a counter row per year, incremented in the transaction."""
    if connection.vendor == "postgresql":
        name = f"disputes_case_number_{year:d}"
        with connection.cursor() as cursor:
            # One statement, and no memory of it in the process: a sequence created in a
            # transaction that rolled back (the year's first filing, refused) is not there.
            cursor.execute(
                "SELECT CASE WHEN to_regclass(%s) IS NULL THEN NULL "
                "ELSE nextval(%s::text::regclass) END",
                [name, name],
            )
            (last,) = cursor.fetchone()
            if last is None:
                _create_sequence(cursor, year, name)
                cursor.execute("SELECT nextval(%s)", [name])
                (last,) = cursor.fetchone()
    elif connection.features.can_return_columns_from_insert:
        quote = connection.ops.quote_name
        table, year_, last_ = quote(CaseNumberSequence._meta.db_table), quote("year"), quote("last")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({year_}, {last_}) VALUES (%s, 1) ON CONFLICT ({year_}) "
                f"DO UPDATE SET {last_} = {table}.{last_} + 1 RETURNING {last_}",
                [year],
            )
            (last,) = cursor.fetchone()
    else:
        CaseNumberSequence.objects.bulk_create(
            [CaseNumberSequence(year=year, last=0)], ignore_conflicts=True
        )
        CaseNumberSequence.objects.filter(year=year).update(last=F("last") + 1)
        last = CaseNumberSequence.objects.get(year=year).last
    return f"JF{year}-{last:06d}"


def _create_sequence(cursor, year: int, name: str) -> None:
    """The year's sequence, made by its first filing; it continues after the year's counter
    row (numbers given before the sequences)."""
    counter = CaseNumberSequence._meta.db_table
    # A concurrent first filing may create it too: whoever comes second keeps theirs.
    cursor.execute(
        f"""DO $$ BEGIN
            CREATE SEQUENCE {name} START WITH 1;
            PERFORM setval('{name}', last, true) FROM {counter}
                WHERE year = {year:d} AND last > 0;
        EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;
        END $$"""
    )


# --- attachments ------------------------------------------------------------------------


# --- filing -------------------------------------------------------------------------------


# The longest value each party field takes (the columns' lengths): longer input is refused
# with a message, never cut short without a word.
PARTY_FIELD_MAX = {
    name: Party._meta.get_field(name).max_length
    for name in ("name", "phone", "address", "relationship")
} | {"id_number": ID_NUMBER_MAX}


def validate_parties(parties: list[dict]) -> list[dict]:
    if len(parties) > PARTIES_MAX:
        raise ValidationError(
            {"parties": [_("Name at most %(n)d parties on one case.") % {"n": PARTIES_MAX}]}
        )
    errors = {}
    cleaned = []
    for index, party in enumerate(parties):
        row_errors = []
        for field, longest in PARTY_FIELD_MAX.items():
            if len((party.get(field) or "").strip()) > longest:
                row_errors.append(
                    _("Party %(n)d: %(field)s is longer than %(max)d characters.")
                    % {"n": index + 1, "field": _(field.replace("_", " ")), "max": longest}
                )
        name = (party.get("name") or "").strip()
        if not name:
            row_errors.append(_("Party %(n)d: the name is required.") % {"n": index + 1})
        side = party.get("side") or PartySide.APPLICANT
        if side not in PartySide.values:
            row_errors.append(_("Party %(n)d: unknown side.") % {"n": index + 1})
        kind = party.get("kind") or PartyKind.PERSON
        if kind not in PartyKind.values:
            row_errors.append(_("Party %(n)d: unknown kind.") % {"n": index + 1})
        phone = (party.get("phone") or "").strip()
        if phone and not phone_ok(phone):
            row_errors.append(
                _("Party %(n)d: the phone number is not valid.") % {"n": index + 1}
                + " "
                + str(PHONE_HELP)
            )
        id_number = (party.get("id_number") or "").strip().upper()
        if id_number and not _id_number_ok(id_number):
            row_errors.append(_("Party %(n)d: the ID number is not valid.") % {"n": index + 1})
        if row_errors:
            errors[index] = row_errors
        cleaned.append(
            {
                "side": side,
                "kind": kind,
                "name": name,
                "phone": phone,
                "id_number": id_number,
                "address": (party.get("address") or "").strip(),
                "relationship": (party.get("relationship") or "").strip(),
            }
        )
    messages = [m for rows in errors.values() for m in rows]
    if not any(p["side"] == PartySide.APPLICANT and p["name"] for p in cleaned):
        messages.append(_("Add at least one applicant."))
    if messages:
        raise ValidationError({"parties": messages})
    return cleaned


# A mainland mobile number (11 digits from 13–19, optionally after +86), a landline with its
# area code (010-12345678, 023 6388 1234, an extension after "-" or "转"), or a 400/800
# service line. Spaces and dashes are how people write them, so they are allowed anywhere.
PHONE_PATTERNS = (
    re.compile(r"(\+?86)?1[3-9]\d{9}"),
    re.compile(r"0\d{2,3}\d{7,8}((-|转)\d{1,6})?"),
    re.compile(r"[48]00\d{7}"),
)
PHONE_HELP = _lazy("Give an 11-digit mobile number or a landline with its area code.")


def phone_ok(value: str) -> bool:
    value = value.strip()
    if any(pattern.fullmatch(_compact(value)) for pattern in PHONE_PATTERNS):
        return True
    # A landline with an extension: the separator before the extension is meaningful.
    extension = re.fullmatch(r"(.+?)(?:-|转)(\d{1,6})", value)
    return bool(extension and PHONE_PATTERNS[1].fullmatch(_compact(extension.group(1))))


def _compact(value: str) -> str:
    return re.sub(r"[\s\-()（）]", "", value)


def _location_errors(latitude, longitude) -> dict:
    if (latitude is None) != (longitude is None):
        return {"latitude": [_("Give both latitude and longitude, or neither.")]}
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return {"latitude": [_("This is not a position on Earth.")]}
    return {}


def _id_number_ok(value: str) -> bool:
    """Mainland resident ID: 18 characters with the ISO 7064 check digit (or 15 digits for
    old cards). Organisations give a unified social credit code (18 characters) instead."""
    if len(value) == 15:
        return value.isdigit()
    if len(value) != 18:
        return False
    if value[:17].isdigit():
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
        return "10X98765432"[total % 11] == value[17]
    return value.isalnum()  # unified social credit code


@transaction.atomic
def case_file(
    *,
    actor: User | None,
    area: Area,
    category: Category,
    cause: str,
    address: str,
    channel: str,
    parties: list[dict],
    description: str = "",
    occurred_at=None,
    risk_level: str | None = None,
    people_involved: int = 2,
    amount_involved=None,
    photos: Iterable = (),
    resolved_on_spot: bool = False,
    outcome_note: str = "",
    public: bool = False,
    latitude=None,
    longitude=None,
    notify_applicant: bool = True,
) -> Case:
    """File a dispute. A grid worker may record it as resolved on the spot ("small matters
    stay in the grid"), which keeps it in the grid's ledger as resolved.

    `public=True` is a resident's own report (residents app, QR code): nobody is signed in,
    so `actor` is None, the staff permission checks do not apply and the case has no filer;
    the caller owns the abuse checks (rate limits, honeypot).

    A case filed by staff gets a tracking code for its applicant (services.tracking), who
    is told of it by SMS when they gave a mobile number, unless `notify_applicant` is False
    (the filing form's "tell the applicant by SMS", ticked by default; party_sms.py)."""
    if public:
        if actor is not None or resolved_on_spot:
            raise ValueError("a public report has no actor and is never resolved on the spot")
    else:
        require(permissions.can_file(actor, channel=channel))
        require(permissions.may_file_in(actor, area))
    errors = {}
    if not (cause or "").strip():
        errors["cause"] = [_("Describe the cause in a few words.")]
    if not (address or "").strip():
        errors["address"] = [_("The address is required.")]
    if category.parent_id is None:
        errors["category"] = [_("Choose a specific dispute type.")]
    if risk_level and risk_level not in RiskLevel.values:
        errors["risk_level"] = [_("Unknown risk level.")]
    if resolved_on_spot and not (outcome_note or "").strip():
        errors["outcome_note"] = [_("Say how it was resolved on the spot.")]
    for field, text in (("description", description), ("outcome_note", outcome_note)):
        if len((text or "").strip()) > TEXT_MAX:
            errors[field] = [too_long(TEXT_MAX)]
    try:
        cleaned_parties = validate_parties(parties)
    except ValidationError as exc:
        errors |= exc.message_dict
    photos = list(photos)
    if len(photos) > FILES_MAX:
        errors["photos"] = [_("Attach at most %(n)d files at once.") % {"n": FILES_MAX}]
    try:
        validate_attachments(photos)
    except ValidationError as exc:
        errors |= exc.message_dict
    errors |= _location_errors(latitude, longitude)
    if amount_involved is not None:  # the table's check, said in words (case_amount_not_negative)
        try:
            MinValueValidator(0)(amount_involved)
        except ValidationError as exc:
            errors["amount_involved"] = exc.messages
    if errors:
        raise ValidationError(errors)

    risk = risk_level or category.default_risk
    routed = route(category=category, risk_level=risk, area=area, on_spot=resolved_on_spot)
    now = timezone.now()
    policy = clock.policy_for(category, risk)
    case = Case(
        number=_next_number(timezone.localtime(now).year),
        cause=cause.strip(),
        description=description.strip(),
        occurred_at=occurred_at,
        address=address.strip(),
        latitude=latitude,
        longitude=longitude,
        area=area,
        category=category,
        risk_level=risk,
        channel=channel,
        people_involved=people_involved,
        amount_involved=amount_involved,
        handling_level=routed.handling_level,
        handling_area=routed.handling_area,
        lead_department=routed.lead_department,
        filed_by=actor,
        status=S.FILED,
        filed_at=now,
        sla_policy=policy,
        **clock.filing_deadlines(policy, now),
        **ancestor_ids(routed.ancestors),
    )
    # The copied ancestor columns are derived, not input: a grid straight under a street
    # has no community, and validating them as required fields would refuse its cases.
    # A public report has no filer by design (filed_by is blank=False for staff filings).
    # No matching policy is allowed too: clock.py then applies the built-in "13710" limits.
    derived = ["number", "district", "street", "community", "grid", "sla_policy"]
    # The related rows are the instances just used (no lookup to check they exist) and the
    # table's checks hold for a new case (amounts are checked above), so neither is checked
    # again with a query each; the database enforces both.
    loaded = ["area", "category", "handling_area", "lead_department", "filed_by"]
    case.full_clean(exclude=[*derived, *loaded], validate_constraints=False)
    case.save(force_insert=True)
    case.sla_check = SlaCheck(case=case)  # a new case has none: inserted, not looked up
    clock.rearm(case)
    party_rows = Party.objects.bulk_create([Party(case=case, **p) for p in cleaned_parties])
    if not public:
        case.tracking = tracking_open(case, parties=cleaned_parties, sms=notify_applicant)
    filed = append_event(
        case,
        kind=CaseEvent.Kind.FILED,
        actor=actor,
        at=now,
        data={
            "handling_level": case.handling_level,
            "handling_area": case.handling_area.name,
            "lead_department": case.lead_department.name if case.lead_department else "",
            **({"public": True} if public else {}),
        },
    )
    stored = store_attachments(case, photos, actor=actor, event=filed)
    events = [filed]
    if resolved_on_spot:
        case.status = S.RESOLVED
        case.resolved_on_spot = True
        case.mediator = actor
        case.outcome = Outcome.AGREEMENT
        case.outcome_note = outcome_note.strip()
        case.accepted_at = case.assigned_at = case.first_progress_at = now
        case.outcome_at = case.resolved_at = now
        case.assigned_on_time = case.first_update_on_time = True
        save_case(
            case,
            "status",
            "resolved_on_spot",
            "mediator",
            "outcome",
            "outcome_note",
            "accepted_at",
            "assigned_at",
            "first_progress_at",
            "outcome_at",
            "resolved_at",
            "assigned_on_time",
            "first_update_on_time",
        )
        on_spot = append_event(
            case,
            kind=CaseEvent.Kind.RESOLVED_ON_SPOT,
            actor=actor,
            from_status=S.FILED,
            note=case.outcome_note,
            at=now,
        )
        events.append(on_spot)
    if not public:
        party_sms.tell_filed(case, on_the_spot=resolved_on_spot)
    # What was written with it, for a reply that shows the case as filed without reading
    # it back (selectors.case_as_filed).
    case.filed_rows = {"parties": party_rows, "events": events, "attachments": stored}
    return case


# --- filing once --------------------------------------------------------------------------

FILING_KEY_MAX = FilingKey._meta.get_field("key").max_length


class FilingKeyReused(StateConflict):
    """The key was used for a different filing (HTTP 409)."""

    def __init__(self, case: Case):
        self.case = case
        super().__init__(
            _("This filing key was already used for case %(number)s with other content.")
            % {"number": case.number}
        )


def fingerprint(fields: dict) -> str:
    """What a filing says, as a hash: two requests under one key must say the same. Photos
    count by name and size (their bytes are not read twice)."""

    def plain(value):
        if hasattr(value, "pk"):
            return value.pk
        if hasattr(value, "size") and hasattr(value, "name"):
            return [value.name, value.size]
        return value

    content = {
        name: [plain(v) for v in value] if isinstance(value, list | tuple) else plain(value)
        for name, value in sorted(fields.items())
        if name not in ("actor", "notify_applicant")  # whom to tell is not what was filed
    }
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def case_file_once(*, key: str, **fields) -> tuple[Case, bool]:
    """`case_file` under a client's key: (the case, True) the first time; (the same case,
    False) for a retry or a double tap with the same content; FilingKeyReused for other
    content. Two requests racing with one key both file inside a savepoint; the unique
    index lets one commit, the other's case (and its number) rolls back and it answers
    with the winner's case. An empty key files as usual."""
    key = (key or "").strip()
    if not key:
        return case_file(**fields), True
    if len(key) > FILING_KEY_MAX or not key.isprintable():
        raise ValidationError(
            {"idempotency_key": [_("A filing key is at most %(n)d printable characters.")
                                 % {"n": FILING_KEY_MAX}]}
        )  # fmt: skip
    actor = fields.get("actor")
    if actor is None:
        raise ValueError("a keyed filing needs a signed-in actor")
    print_ = fingerprint(fields)
    earlier = _earlier(actor, key, print_)
    if earlier is not None:
        return earlier, False
    try:
        with transaction.atomic():
            case = case_file(**fields)
            FilingKey.objects.create(filed_by=actor, key=key, fingerprint=print_, case=case)
    except IntegrityError:
        earlier = _earlier(actor, key, print_)
        if earlier is None:
            raise
        return earlier, False
    return case, True


def _earlier(actor: User, key: str, print_: str) -> Case | None:
    row = FilingKey.objects.filter(filed_by=actor, key=key).select_related("case").first()
    if row is None:
        return None
    if row.fingerprint != print_:
        raise FilingKeyReused(row.case)
    return row.case
