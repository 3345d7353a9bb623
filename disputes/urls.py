from django.urls import path

from . import correction_pages, department_pages, supervision_pages, views

app_name = "disputes"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("mine/", views.my_cases, name="mine"),
    path("new/", views.case_file, name="file"),
    path("new/nearest-area/", views.nearest_area, name="nearest_area"),
    path("new/areas/", views.area_suggestions, name="area_suggestions"),
    path("department/", department_pages.department_queue, name="department_queue"),
    path("supervision/", supervision_pages.card_list, name="supervision"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/actions/<slug:action>/", views.case_action, name="action"),
    path("<int:pk>/correct/", correction_pages.case_correct, name="correct"),
    path("<int:pk>/parties/reveal/", views.reveal_parties, name="reveal_parties"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_id>/thumbnail/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
]
