from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from dashboards import health
from grid_governance import pwa
from grids import two_factor
from grids import views as grid_views

urlpatterns = [
    path("", grid_views.home, name="home"),
    # The installable app: both must sit at the root (a service worker controls only the
    # pages under its own path).
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("accounts/login/", two_factor.Login.as_view(), name="login"),
    path("accounts/two-factor/", two_factor.two_factor, name="two_factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("cases/", include("disputes.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("assessment/", include("assessment.urls")),
    path("responsibility/", include("grids.urls")),
    path("notifications/", include("notifications.urls")),
    path("sla/health/", health.sla_health, name="sla_health"),
    path("reception-days/", include("reception_days.urls")),
    path("mediation/", include("mediation.urls")),
    path("instructions/", include("instructions.urls")),
    path("referrals/", include("referrals.urls")),
    path("casefiles/", include("casefiles.urls")),
    # Residents: public pages (no login) under /r/, staff pages under /residents/.
    path("r/", include("residents.public_urls")),
    path("residents/", include("residents.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", grid_views.IssueToken.as_view(), name="api-token"),
    path("api/v1/", include("disputes.api_urls")),
    path("api/v1/notifications/", include("notifications.api_urls")),
    path("api/v1/stats/", include("dashboards.api_urls")),
    path("api/v1/assessment/", include("assessment.api_urls")),
    path("api/v1/reception-days/", include("reception_days.api_urls")),
    path("api/v1/mediation/", include("mediation.api_urls")),
    path("api/v1/instructions/", include("instructions.api_urls")),
    path("api/v1/residents/", include("residents.api_urls")),
    path("api/v1/referrals/", include("referrals.api_urls")),
    path("api/v1/casefiles/", include("casefiles.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

# Error pages in Chinese that offer "Home" only to signed-in staff (error_pages.py).
handler400 = "grid_governance.error_pages.bad_request"
handler403 = "grid_governance.error_pages.permission_denied"
handler404 = "grid_governance.error_pages.page_not_found"
handler500 = "grid_governance.error_pages.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
