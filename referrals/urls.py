from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("case/<int:case_pk>/new/", views.referral_new, name="new"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/result/", views.referral_result, name="result"),
    path("<int:pk>/extend/", views.referral_extend, name="extend"),
]
