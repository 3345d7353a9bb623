"""The in-app inbox: the notifications the SLA engine and the workflow send to each user."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from common.errors import attempt

from . import selectors
from .forms import PreferencesForm
from .models import Notification
from .services import mark_read, preferences_save, unread_count

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
def notification_settings(request):
    """Which groups of notices also come by SMS and by email (the inbox has them all)."""
    rows = selectors.preferences_of(request.user)
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST, rows=rows)
        if form.is_valid():
            done = attempt(
                lambda: preferences_save(
                    user=request.user, actor=request.user, choices=form.choices()
                ),
                form=form,
            )
            if done.ok:
                messages.success(request, _("Notification settings saved."))
                return redirect("inbox:settings")
            status = done.status
            if done.error:
                form.add_error(None, done.error)
        else:
            status = 400
    else:
        form = PreferencesForm(rows=rows)
    user = request.user
    context = {"form": form, "has_phone": bool(user.phone), "has_email": bool(user.email)}
    return render(request, "notifications/settings.html", context, status=status)


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
