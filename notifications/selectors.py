"""The inbox (what a user reads, newest first) and the user's notification settings."""

from .groups import DESCRIPTIONS, Group
from .models import Notification, NotificationPreference


def notification_list(*, user, unread_only: bool = False):
    """The user's inbox, newest first (index notif_inbox), with the case number joined."""
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("case").order_by("-created_at", "-id")


def preferences_of(user, *, existing: dict | None = None) -> list[dict]:
    """Every group with the channels the user gets it by (in-app always), in a fixed order;
    one query (none when the caller has the rows)."""
    if existing is None:
        existing = {p.group: p for p in NotificationPreference.objects.filter(user_id=user.pk)}
    rows = []
    for group in Group:
        preference = existing.get(group.value)
        rows.append(
            {
                "group": group.value,
                "label": str(group.label),
                "description": str(DESCRIPTIONS[group]),
                "in_app": True,
                "sms": preference.sms if preference else True,
                "email": preference.email if preference else True,
            }
        )
    return rows
