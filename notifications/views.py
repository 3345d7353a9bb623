"""The in-app inbox: the notifications the SLA engine and the workflow send to each user."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors
from .models import Notification
from .services import mark_read, unread_count

PAGE_SIZE = 20
# Unread messages listed on the home page.
RECENT = 5


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = "unread=1" if unread_only else ""
    context = {"page": page, "query": query, "unread_only": unread_only}
    return render(request, "notifications/notifications.html", context)


@login_required
@require_POST
def notification_read(request, pk):
    """Marks one message read. With htmx the row is swapped in place and the header's
    unread badge updated out of band; without JavaScript the inbox is shown again."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
    if not request.htmx:
        return redirect("inbox:list")
    context = {"n": notification, "unread_count": unread_count(request.user), "oob": True}
    return render(request, "notifications/_notification.html", context)


@login_required
@require_POST
def notification_read_all(request):
    marked = mark_read(user=request.user)
    if marked:
        messages.success(request, _("All messages marked as read."))
    return redirect("inbox:list")


@login_required
@require_GET
def unread_badge(request):
    """The header's bell with its count, fetched again when a message arrives (live.js)."""
    context = {"unread_count": unread_count(request.user)}
    return render(request, "notifications/_unread_badge.html", context)


@login_required
@require_GET
def recent(request):
    """The newest unread messages, for the home page (loaded by it, and again live)."""
    unread = selectors.notification_list(user=request.user, unread_only=True)
    context = {"recent": unread[:RECENT], "unread_count": unread_count(request.user)}
    return render(request, "notifications/_recent.html", context)
