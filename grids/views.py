from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import responsibility
from .models import AreaLevel
from .selectors import area_breadcrumbs, area_counts_by_level, user_scope
from .tokens import expired, token_lifetime
from .two_factor import check_code, confirmed_device


@login_required
def home(request):
    scope = user_scope(request.user)
    assignments = [a for a in scope.assignments]
    crumbs = area_breadcrumbs([a.area for a in assignments if a.area_id])
    counts = area_counts_by_level(user=request.user)
    context = {
        "assignments": [
            {"assignment": a, "place": crumbs.get(a.area_id) if a.area_id else a.department}
            for a in assignments
        ],
        "area_counts": [
            {"label": label, "count": counts[value]}
            for value, label in AreaLevel.choices
            if counts.get(value)
        ],
        "sees_everything": scope.sees_everything,
    }
    return render(request, "grids/home.html", context)


class TokenRequestSerializer(AuthTokenSerializer):
    # Bounded like the login page's form: an overlong username reached the lockout's
    # attempt log (varchar 255) and failed there with a server error.
    username = serializers.CharField(label=_("Username"), max_length=150, write_only=True)
    password = serializers.CharField(
        label=_("Password"), max_length=4096, write_only=True, trim_whitespace=False,
        style={"input_type": "password"},
    )  # fmt: skip


class IssueToken(ObtainAuthToken):
    """POST username + password → a token. An expired token is replaced, never handed out
    again (DRF's view returns whatever token the user has)."""

    serializer_class = TokenRequestSerializer

    @extend_schema(
        operation_id="auth_token",
        responses=inline_serializer(
            "IssuedToken",
            {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
        ),
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        device = confirmed_device(user)
        if device is not None and not check_code(device, str(request.data.get("otp_token", ""))):
            # Two-factor login is on: the password alone gives no token either.
            raise ValidationError(
                {"otp_token": [_("Enter the six-digit code from your authenticator app.")]}
            )
        token, _created = Token.objects.get_or_create(user=user)
        if expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        expires = token.created + token_lifetime()
        return Response({"token": token.key, "expires_at": expires.isoformat()})


# --- who was responsible when ---------------------------------------------------------------


class ResponsibilityForm(forms.Form):
    q = forms.CharField(label=_lazy("Grid, community or street"), required=False, max_length=100)
    area = forms.IntegerField(required=False, widget=forms.HiddenInput)
    on = forms.DateField(
        label=_lazy("On the day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    who = forms.CharField(label=_lazy("Staff member"), required=False, max_length=100)
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)


@login_required
@require_GET
def responsibility_page(request):
    """谁在何时负责: who held a grid / mediated in a community on a day, and one person's
    posts over time, from the assignments' history (grids/responsibility.py)."""
    user = request.user
    roots = responsibility.supervisor_roots(user)  # PermissionDenied first
    form = ResponsibilityForm(request.GET or None)
    context = {"form": form, "today": timezone.localdate(), "roots": roots}
    status = 200
    if form.is_bound and not form.is_valid():
        return render(request, "grids/responsibility.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    day = data.get("on") or timezone.localdate()
    context["day"] = day
    area = None
    if data.get("area"):
        area = responsibility.area_for(user, data["area"])
        status = 200 if area else 404
    elif data.get("q"):
        matches = responsibility.search_areas(user=user, text=data["q"])
        exact = [a for a in matches if data["q"].strip() in (a.name, a.code)]
        if len(matches) == 1 or len(exact) == 1:
            area = (exact or matches)[0]
        context["area_matches"] = [
            {"area": a, "crumb": crumb} for a, crumb in zip(matches, _crumbs(matches), strict=True)
        ]
    if area is not None:
        context["area"] = area
        context["held"] = responsibility.who_held(user=user, area=area, day=day)
        context["day_end"] = responsibility.day_bounds(day)[1]
    person = None
    if data.get("person"):
        person = responsibility.person_for(user, data["person"])
        status = 200 if person else 404
    elif data.get("who"):
        people = responsibility.search_people(user=user, text=data["who"])
        exact = [p for p in people if data["who"].strip() in (p.real_name, p.username)]
        if len(people) == 1 or len(exact) == 1:
            person = (exact or people)[0]
        context["person_matches"] = people
    if person is not None:
        context["person"] = person
        context["posts"] = responsibility.assignments_of(user=user, person=person)
    return render(request, "grids/responsibility.html", context, status=status)


def _crumbs(areas) -> list[str]:
    crumbs = area_breadcrumbs(areas)
    return [crumbs[a.pk] for a in areas]
