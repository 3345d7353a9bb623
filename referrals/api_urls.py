from django.urls import path

from . import apis

app_name = "referrals-api"

urlpatterns = [
    path("", apis.ReferralListApi.as_view(), name="list"),
    path("<int:pk>/", apis.ReferralDetailApi.as_view(), name="detail"),
    path("<int:pk>/result/", apis.ReferralResultApi.as_view(), name="result"),
    path("<int:pk>/extend/", apis.ReferralExtendApi.as_view(), name="extend"),
]
