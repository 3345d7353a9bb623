"""Staff pages, mounted at /residents/ (login required)."""

from django.urls import path

from . import views

app_name = "residents"

urlpatterns = [
    path("posters/", views.posters, name="posters"),
    path("posters/<str:area_code>/", views.poster, name="poster"),
    path("cases/<int:pk>/public-notes/", views.public_note, name="public_note"),
    path(
        "cases/<int:pk>/public-notes/publish/<int:event_id>/",
        views.public_publish,
        name="public_publish",
    ),
    path(
        "cases/<int:pk>/public-notes/<int:update_id>/withdraw/",
        views.public_withdraw,
        name="public_withdraw",
    ),
    path("reopen-requests/", views.reopen_requests, name="reopen_requests"),
    path("reopen-requests/<int:pk>/decide/", views.reopen_decide, name="reopen_decide"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:pk>/", views.callback, name="callback"),
]
