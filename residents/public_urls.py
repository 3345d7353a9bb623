"""The public surface, mounted at /r/: no login anywhere below this prefix."""

from django.urls import path, register_converter

from . import views


class KindConverter:
    regex = "png|svg"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(KindConverter, "qrkind")

app_name = "resident_public"

urlpatterns = [
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track_case, name="case"),
    path("track/<str:code>/rate/", views.rate, name="rate"),
    path("track/<str:code>/sms-off/", views.sms_off, name="sms_off"),
    path("done/", views.report_done, name="done"),
    path("<str:area_code>/", views.report, name="report"),
    path("<str:area_code>/qr.<qrkind:kind>", views.qr_image, name="qr"),
]
