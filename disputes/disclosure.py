"""Showing parties' phone and ID numbers in full. Pages and the API show them masked; a
person allowed to see them (permissions.sees_party_details) asks, and each time is
recorded (PartyDisclosure: who, when, which case, where), for admins to review. The PIPL
asks for exactly this of sensitive personal information: the minimum shown by default, and
a trace of every access."""

from django.db import transaction

from .ledger import require
from .models import Case, PartyDisclosure
from .permissions import sees_party_details


@transaction.atomic
def reveal_parties(*, case: Case, actor, channel: str) -> None:
    """Record that `actor` sees `case`'s party details now; PermissionDenied otherwise."""
    require(sees_party_details(actor, case))
    PartyDisclosure.objects.create(case=case, user=actor, channel=channel)
