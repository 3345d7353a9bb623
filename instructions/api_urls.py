from django.urls import path

from . import apis

app_name = "instructions-api"

urlpatterns = [
    path("", apis.InstructionListApi.as_view(), name="instruction-list"),
    path("received/", apis.ReceivedListApi.as_view(), name="instruction-received"),
    path("<int:pk>/", apis.InstructionDetailApi.as_view(), name="instruction-detail"),
    path("<int:pk>/remind/", apis.InstructionRemindApi.as_view(), name="instruction-remind"),
    path("<int:pk>/ack/", apis.AckApi.as_view(), name="instruction-ack"),
]
