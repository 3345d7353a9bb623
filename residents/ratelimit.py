"""Fixed-window counters in the shared cache (Redis in production), so every web process
sees the same count. Identifiers are hashed before they become keys: phone numbers and IP
addresses do not sit in the cache in clear."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from . import conf


def _key(scope: str, ident: str, window: int) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{scope}:{ident}".encode()).hexdigest()[:32]
    return f"residents:rl:{scope}:{digest}:{int(time.time() // window)}"


def hit(scope: str, ident: str) -> bool:
    """Count one attempt; False when it goes over the scope's limit."""
    limit, window = conf.rate_limits()[scope]
    key = _key(scope, ident, window)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def exhausted(scope: str, ident: str) -> bool:
    """Has the scope's limit been used up (without counting this look)?"""
    limit, window = conf.rate_limits()[scope]
    return (cache.get(_key(scope, ident, window)) or 0) >= limit


def client_ip(request) -> str:
    proxies = conf.trusted_proxies()
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
