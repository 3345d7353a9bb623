from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

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
