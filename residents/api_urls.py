from django.urls import path

from . import apis

app_name = "residents-api"

urlpatterns = [
    path("figures/", apis.FiguresApi.as_view(), name="figures"),
    path("callbacks/", apis.CallbackListApi.as_view(), name="callback-list"),
    path("callbacks/<int:pk>/record/", apis.CallbackRecordApi.as_view(), name="callback-record"),
    path("reopen-requests/", apis.ReopenRequestListApi.as_view(), name="reopen-list"),
    path("reopen-requests/<int:pk>/decide/", apis.ReopenDecideApi.as_view(), name="reopen-decide"),
]
