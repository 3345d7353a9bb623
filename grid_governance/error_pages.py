"""The pages people see when something goes wrong: 400, 403, 404, 500 and a refused form
(CSRF), in Chinese, phone-sized (templates/errors/page.html).

Which way out a page offers depends on who is looking. Residents reach the public pages
(the QR report, tracking, the reception-day notice) without an account: a "Home" link
there would lead to the staff login, which means nothing to them and invites guessing
passwords. So staff who are signed in, on a staff page, get "Home" and "Back"; everyone
else gets "Back" only."""

from django.http import HttpResponse
from django.template import loader

# The public surface (grid_governance/urls.py: residents.public_urls under /r/, and the
# reception-day notice in reception_days/urls.py). tests/test_error_pages.py checks that
# every public page's address starts with one of these.
PUBLIC_PREFIXES = ("/r/", "/reception-days/public/")


def public_path(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


def _signed_in(request) -> bool:
    # The error may have happened before authentication ran (a 400 for a bad Host header)
    # or be the database itself failing (a 500): then the person counts as anonymous.
    try:
        return bool(request.user.is_authenticated)
    except Exception:
        return False


def staff_links(request) -> bool:
    """Whether an error page may offer "Home" (the staff start page, or its login)."""
    return request is not None and not public_path(request.path) and _signed_in(request)


def _page(request, template_name: str, status: int, **context) -> HttpResponse:
    # Rendered without the request, as Django's own handlers do: no context processor
    # (navigation, unread counts) runs on a page that may be there because they failed.
    template = loader.get_template(template_name)
    context["staff_links"] = staff_links(request)
    return HttpResponse(template.render(context), status=status)


def bad_request(request, exception=None):
    return _page(request, "400.html", 400)


def permission_denied(request, exception=None):
    return _page(request, "403.html", 403, exception=str(exception or ""))


def page_not_found(request, exception=None):
    return _page(request, "404.html", 404)


def server_error(request=None):
    return _page(request, "500.html", 500)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a form sent with a stale or missing token (opened long
    ago, signed in or out in another tab since, cookies blocked). Django's own page is in
    English and speaks of "CSRF verification"; this one says what to do."""
    return _page(request, "errors/csrf.html", 403)
