"""The applicant's tracking code of a case filed by staff (models_filing.CaseTracking):
made when the case is filed; the applicant may turn the SMS off from the tracking page."""

import re
import secrets

from django.db import connection
from django.utils import timezone

from ..models import Case, PartySide
from ..models_filing import CaseTracking

# No 0/O, 1/I/L: read out over the phone without mistakes (as residents' report codes).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MOBILE = re.compile(r"1[3-9]\d{9}")


def mobile(phone: str) -> str:
    """The 11 digits of a mainland mobile number as people write it (spaces, dashes, +86),
    or "" for a landline, a service line or nothing."""
    digits = re.sub(r"[\s\-()（）]", "", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits if MOBILE.fullmatch(digits) else ""


def normalise_code(value: str) -> str:
    """What was typed (any case, with spaces or the dash) as stored."""
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def tracking_open(case: Case, *, parties: list[dict], sms: bool) -> CaseTracking:
    """The tracking row of a newly filed case: a fresh code, and the first applicant's
    mobile number if one was given. One INSERT: a code already taken (about one chance in
    10^14 per case on file) is left alone by the database and another drawn, so the filing
    neither looks the code up first nor fails on the unique index."""
    phone = next(
        (m for p in parties if p["side"] == PartySide.APPLICANT and (m := mobile(p["phone"]))),
        "",
    )
    tracking = CaseTracking(case=case, phone=phone, sms=sms, created_at=timezone.now())
    quote = connection.ops.quote_name
    col = {f.name: quote(f.column) for f in CaseTracking._meta.concrete_fields}
    names = ("case", "code", "phone", "sms", "created_at")
    sql = (
        f"INSERT INTO {quote(CaseTracking._meta.db_table)} "
        f"({', '.join(col[n] for n in names)}) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({col['code']}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        while True:
            tracking.code = _new_code()
            params = [
                case.pk,
                tracking.code,
                phone,
                sms,
                connection.ops.adapt_datetimefield_value(tracking.created_at),
            ]
            cursor.execute(sql, params)
            if cursor.rowcount == 1:
                break
    tracking._state.adding = False
    tracking._state.db = connection.alias
    return tracking


def tracking_sms_stop(*, tracking: CaseTracking) -> bool:
    """The applicant turns SMS off (the tracking page's "no more SMS"); for good, and kept
    with its time on the row (the case page shows it). False if it was off already."""
    stopped = CaseTracking.objects.filter(pk=tracking.pk, sms_stopped_at__isnull=True).update(
        sms_stopped_at=timezone.now()
    )
    tracking.refresh_from_db(fields=["sms_stopped_at"])
    return bool(stopped)
