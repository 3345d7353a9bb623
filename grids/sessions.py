"""The session engine (settings.SESSION_ENGINE): Django's database sessions, whose row is
read with a statement compiled once per connection (common.prepared) instead of on every
request. Everything else (expiry, saving, cleaning up) is Django's own."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from common.prepared import Prepared

LIVE_SESSION = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now)
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        # As Django's: the unexpired row, or None (and no key: a new session is made).
        session = LIVE_SESSION.first(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session
