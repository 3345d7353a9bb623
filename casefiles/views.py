"""The mediation file's pages: the case's archived versions with the build's progress
(polled), archiving again, the download (the masked copy for viewers who may not see the
parties' phone and ID numbers), and the case page's section."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from common.errors import attempt
from disputes import disclosure
from disputes.models import Case

from . import selectors, services
from .models import CaseFileArchive

A = CaseFileArchive


def _case_or_404(user, pk) -> Case:
    try:
        return Case.objects.visible_to(user).select_related("handling_area").get(pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


def _context(request, case) -> dict:
    archives = selectors.case_archives(case)
    return {
        "case": case,
        "archives": archives,
        "building": any(a.status in (A.Status.QUEUED, A.Status.BUILDING) for a in archives),
        "can_archive": case.status == "closed" and services.may_archive(request.user, case),
    }


def case_section(request, case) -> str:
    """The case page's section (registered in apps.ready); the page checked the viewer."""
    context = _context(request, case)
    if not context["archives"] and case.status != "closed":
        return ""
    return render_to_string("casefiles/_case_section.html", context, request=request)


@login_required
@require_GET
def case_files(request, case_pk):
    case = _case_or_404(request.user, case_pk)
    return render(request, "casefiles/case_files.html", _context(request, case))


@login_required
@require_GET
def progress(request, case_pk):
    """The versions list alone, polled by the page while a build runs."""
    case = _case_or_404(request.user, case_pk)
    return render(request, "casefiles/_versions.html", _context(request, case))


@login_required
@require_POST
def archive_again(request, case_pk):
    case = _case_or_404(request.user, case_pk)
    outcome = attempt(lambda: services.archive_again(case=case, actor=request.user))
    if outcome.ok:
        messages.success(request, _("The file is being archived."))
        return redirect("casefiles:case", case_pk=case.pk)
    context = {**_context(request, case), "error": outcome.error}
    return render(request, "casefiles/case_files.html", context, status=outcome.status)


def serve(request, archive: CaseFileArchive, *, channel: str) -> FileResponse:
    """The viewer's copy, frozen as built. The full copy shows the parties' phone and ID
    numbers: handing it out is recorded like revealing them on the case page."""
    if not archive.ready:
        raise Http404(_("The file is not archived yet."))
    copy = selectors.copy_for(request.user, archive)
    if not copy["masked"]:
        disclosure.reveal_parties(case=archive.case, actor=request.user, channel=channel)
    suffix = "" if archive.version == 1 else f"-v{archive.version}"
    response = FileResponse(
        copy["file"].open("rb"),
        content_type="application/pdf",
        filename=f"{archive.case.number}{suffix}.pdf",
        as_attachment=not request.GET.get("print"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = copy["sha256"]
    return response


@login_required
@require_GET
def download(request, pk):
    try:
        archive = selectors.archive_detail(user=request.user, pk=pk)
    except A.DoesNotExist as exc:
        raise Http404(_("No such file.")) from exc
    return serve(request, archive, channel="page")
