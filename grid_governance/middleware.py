from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from common.limits import request_max_bytes


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user picked another language with the switch in the footer.

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many
    officials' phones and office PCs are set to English; the product is Chinese first."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class RejectNulBytesMiddleware:
    """400 for a NUL byte in the path, the query string or a plain form post. PostgreSQL
    refuses NUL in text, so one in `?q=` or a public URL reached the database and came back
    as a server error. Multipart posts are left to the views (reading them here would parse
    uploads before the view chose how), and their text fields go through forms, which refuse
    NUL themselves (ProhibitNullCharactersValidator)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            message = _("The request contains a NUL character, which no field accepts.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": {}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path or "\x00" in request.path_info:
            return True
        if any("\x00" in k or "\x00" in v for k, vs in request.GET.lists() for v in [k, *vs]):
            return True
        if request.content_type == "application/x-www-form-urlencoded":
            return any("\x00" in v for k, vs in request.POST.lists() for v in [k, *vs])
        return False


class RequestSizeLimitMiddleware:
    """413 for a body larger than the path accepts (common/limits.py), decided on the
    Content-Length header before a byte of it is read; a form or JSON body without files
    is held to Django's DATA_UPLOAD_MAX_MEMORY_SIZE the same way, so the API answers in
    its own JSON shape instead of Django's bare HTML 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_max_bytes(request.path)
        if not request.content_type.startswith("multipart/"):
            limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or limit)
        if length > limit:
            message = _("The request is too large (%(size)s); at most %(limit)s is accepted.") % {
                "size": filesizeformat(length),
                "limit": filesizeformat(limit),
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": {}}, status=413)
            response = HttpResponse(message, content_type="text/plain; charset=utf-8")
            response.status_code = 413
            return response
        return self.get_response(request)
