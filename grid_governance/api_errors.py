"""One error shape for the whole API: `{"detail": "…", "errors": {field: ["…"]}}`.

Services raise Django's ValidationError / PermissionDenied and disputes' TransitionError;
DRF raises its own exceptions. All of them leave here as 400/401/403/404/405/409/415 with the
same body, so clients handle one shape and nothing a user can cause becomes a 500."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import StateConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The case is not in a state that allows this.")
    default_code = "conflict"


def api_exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = _body(exc)
    return response


def _as_api_exception(exc):
    if isinstance(exc, StateConflict):
        return Conflict(exc.message)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_django_errors(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    return exc


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _body(exc) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        if set(errors) == {api_settings.NON_FIELD_ERRORS_KEY}:
            # A form-level message ("wrong password") is the useful summary itself.
            detail = " ".join(errors[api_settings.NON_FIELD_ERRORS_KEY])
        else:
            detail = str(exceptions.ValidationError.default_detail)
        return {"detail": detail, "errors": errors}
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    return {"detail": str(detail), "errors": {}}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors of nested and list fields ({"parties": [{}, {"name": […]}]}); clients
    get one flat map instead, keyed by the dotted path ("parties.1.name")."""
    key = prefix or api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            flat |= flatten_errors(value, f"{prefix}.{name}" if prefix else str(name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {key: [str(item) for item in detail]} if detail else {}
        flat = {}
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                flat |= flatten_errors(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                flat.setdefault(key, []).append(str(value))
        return flat
    return {key: [str(detail)]}
