from django.urls import path

from . import views

app_name = "reception_days"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("mine/", views.my_sessions, name="mine"),
    path("new/", views.session_create, name="create"),
    path("report-card/", views.report_card, name="report_card"),
    path("report-card.csv", views.report_card_csv, name="report_card_csv"),
    path("public/<str:code>/", views.public_sessions, name="public"),
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/visits/", views.visit_add, name="visit_add"),
    path("<int:pk>/visits/<int:visit_id>/convert/", views.visit_convert, name="visit_convert"),
    path("<int:pk>/visits/<int:visit_id>/reply/", views.visit_reply, name="visit_reply"),
    path("<int:pk>/hold/", views.session_hold, name="hold"),
    path("<int:pk>/cancel/", views.session_cancel, name="cancel"),
    path("<int:pk>/staff/", views.session_add_staff, name="add_staff"),
]
