"""The app's routes plus one that does nothing but name its signed-in user: bench_lists
times it beside its raw SQL to show what Django's own request handling costs (middleware,
the session and the user, two primary-key reads) before a page does anything of its own."""

from django.http import HttpResponse
from django.urls import path

from grid_governance.urls import urlpatterns as app_urlpatterns


def who(request):
    return HttpResponse(request.user.get_username())


urlpatterns = [path("bench-floor/", who), *app_urlpatterns]
