"""The inbox: what a user reads, newest first."""

from .models import Notification


def notification_list(*, user, unread_only: bool = False):
    """The user's inbox, newest first (index notif_inbox), with the case number joined."""
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("case").order_by("-created_at", "-id")
