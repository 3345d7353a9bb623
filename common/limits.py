"""How much one person may send at once. Without limits a filing took 20,000 parties or a
10 MB description, and the public form read 150 MB from an anonymous phone before refusing.

The numbers are far above any real case (the largest filings in the seed reports name a
few dozen parties and a page of text) and far below what would hurt the server."""

from django.conf import settings
from django.utils.translation import gettext as _

# A long free text: a description, a note, a reason, how a dispute was resolved.
TEXT_MAX = 5000
# Parties named on one case (a group dispute lists its representatives, not every member).
PARTIES_MAX = 50
# Photos or PDFs sent in one request (each ≤ 10 MB, see disputes.attachments).
FILES_MAX = 9


def request_max_bytes(path: str) -> int:
    """The largest request body accepted on a path: the residents' public pages take at
    most three photos; signed-in staff up to FILES_MAX files."""
    if path.startswith("/r/"):
        return settings.PUBLIC_REQUEST_MAX_BYTES
    return settings.REQUEST_MAX_BYTES


def too_long(limit: int) -> str:
    return _("At most %(n)d characters, please.") % {"n": limit}
