"""Errors every app's services raise, and the one place pages turn them into what a user
sees (the API's twin is grid_governance.api_errors)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _


class StateConflict(Exception):
    """The object's state does not allow this now (HTTP 409); nothing was changed."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def errors_to_form(form, exc: ValidationError):
    """A service's field errors onto the form that fed it (unknown fields: form-level)."""
    for field, messages in exc.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


@dataclass
class Attempt:
    ok: bool
    result: Any = None
    # A message for the whole action (403/409); field errors went onto the form (400).
    error: str = ""
    status: int = 200


FORBIDDEN = _("You may not do this for this case.")


def attempt(call: Callable[[], Any], *, form=None, forbidden: str = FORBIDDEN) -> Attempt:
    """Run one service call for a page. PermissionDenied → 403 with `forbidden`; a state
    conflict → 409 with its message; bad input → 400, the messages on the form (or, with no
    form, in `error`)."""
    try:
        result = call()
    except PermissionDenied:
        return Attempt(False, error=str(forbidden), status=403)
    except StateConflict as exc:
        return Attempt(False, error=exc.message, status=409)
    except ValidationError as exc:
        if form is None:
            return Attempt(False, error=" ".join(exc.messages), status=400)
        errors_to_form(form, exc)
        return Attempt(False, status=400)
    return Attempt(True, result=result)
