"""The dates a report period may span. A period ending on 9999-12-31 (a form field or query
string is all it takes) overflowed when its end was turned into "the next day 00:00": a
server error instead of a clear refusal."""

from datetime import date

from django.utils.translation import gettext as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def out_of_range(*days: date | None) -> str | None:
    """The refusal message if any of the days lies outside EARLIEST–LATEST, else None."""
    if any(day is not None and not EARLIEST <= day <= LATEST for day in days):
        return _("Choose dates between %(first)s and %(last)s.") % {
            "first": EARLIEST.isoformat(),
            "last": LATEST.isoformat(),
        }
    return None
