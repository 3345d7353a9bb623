from django.urls import path

from . import paper_views, views

app_name = "mediation"

urlpatterns = [
    path("cases/<int:case_id>/", views.overview, name="overview"),
    path("cases/<int:case_id>/sessions/new/", views.session_new, name="session_new"),
    path("cases/<int:case_id>/sessions/<int:pk>/", views.session_detail, name="session"),
    path(
        "cases/<int:case_id>/sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"
    ),
    path("cases/<int:case_id>/agreement/", views.agreement_edit, name="agreement_edit"),
    path(
        "cases/<int:case_id>/agreements/<int:pk>/new-version/",
        views.agreement_new_version,
        name="new_version",
    ),
    path("cases/<int:case_id>/agreements/<int:pk>/sign/", paper_views.agreement_sign, name="sign"),
    path("cases/<int:case_id>/agreements/<int:pk>/scan/", paper_views.agreement_scan, name="scan"),
    path(
        "cases/<int:case_id>/agreements/<int:pk>/confirmation/",
        paper_views.confirmation_apply,
        name="confirmation_apply",
    ),
    path(
        "cases/<int:case_id>/confirmations/<int:pk>/",
        paper_views.confirmation_record,
        name="confirmation_record",
    ),
    path(
        "cases/<int:case_id>/confirmations/<int:pk>/papers/",
        paper_views.confirmation_papers,
        name="confirmation_papers",
    ),
    path(
        "cases/<int:case_id>/obligations/<int:pk>/perform/",
        paper_views.obligation_perform,
        name="perform",
    ),
    path(
        "cases/<int:case_id>/obligations/<int:pk>/proof/",
        paper_views.obligation_proof,
        name="proof",
    ),
    path(
        "cases/<int:case_id>/signatures/<int:pk>.png", paper_views.signature_image, name="signature"
    ),
    path("cases/<int:case_id>/documents/", paper_views.document_request, name="print"),
    path("cases/<int:case_id>/documents/<int:pk>/", paper_views.document_page, name="document"),
    path(
        "cases/<int:case_id>/documents/<int:pk>/file/",
        paper_views.document_download,
        name="download",
    ),
]
