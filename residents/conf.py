"""Tunables, each overridable in settings without touching this app."""

from decimal import Decimal

from django.conf import settings


def callback_share() -> Decimal:
    """Share of each street's closed cases called back every month (Yuzhong: at least 30%)."""
    return Decimal(str(getattr(settings, "RESIDENT_CALLBACK_SHARE", "0.30")))


def rate_limits() -> dict[str, tuple[int, int]]:
    """scope → (attempts, window in seconds). Reports count when they would be saved;
    tracking lookups count when they fail."""
    return {
        "report_ip": (10, 60 * 60),
        "report_phone": (5, 24 * 60 * 60),
        "track_ip": (20, 15 * 60),
        "track_pair": (10, 60 * 60),
        # Only reports opened by phone digits (before tracking keys) have a per-code limit.
        "track_code": (10, 24 * 60 * 60),
        **getattr(settings, "RESIDENT_RATE_LIMITS", {}),
    }


def max_photos() -> int:
    return int(getattr(settings, "RESIDENT_MAX_PHOTOS", 3))


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (0: use the
    socket address; a client can write anything into that header). The same count the
    login lockout uses (TRUSTED_PROXY_COUNT), so behind a proxy the residents' rate limits
    count each phone's address, not the proxy's (one counter for the whole city)."""
    return int(
        getattr(settings, "RESIDENT_TRUSTED_PROXIES", getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    )


def public_base_url() -> str:
    """Where the QR codes point, e.g. https://tiaojie.example.gov.cn — posters are often
    printed from an office address residents cannot reach. Empty: the request's own host."""
    return str(getattr(settings, "RESIDENT_PUBLIC_BASE_URL", "")).rstrip("/")


# Which dispute type each plain-language topic files under: the first code that exists and
# is active wins, then any active sub-type of the first-level code, then "other".
TOPIC_CATEGORY_CODES = {
    "neighbours": (("0201",), "02"),
    "property": (("1402", "1401"), "14"),
    "wages": (("1001",), "10"),
    "family": (("0101", "0102", "0103"), "01"),
    "noise": (("0202", "0901"), "02"),
    "other": (("1599",), "15"),
}


def topic_category_codes() -> dict:
    return {**TOPIC_CATEGORY_CODES, **getattr(settings, "RESIDENT_TOPIC_CATEGORY_CODES", {})}
