"""Logins beyond Django's defaults: API tokens that expire and die with a password change.

Brute force on every login path (page, admin, API token) is django-axes' job (settings:
AXES_*); its backend sees each attempt with its request, so the API token view counts too.
The view that issues tokens is views.IssueToken (not here: DRF's views import this module
through the DEFAULT_AUTHENTICATION_CLASSES setting)."""

from datetime import timedelta

from django.conf import settings
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from common.prepared import Prepared

from .models import User

# On every API call: compiled once per connection (common.prepared).
TOKEN = Prepared(lambda key: Token.objects.select_related("user").filter(key=key))


def token_lifetime() -> timedelta:
    return timedelta(days=settings.API_TOKEN_DAYS)


def expired(token: Token) -> bool:
    return token.created < timezone.now() - token_lifetime()


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …` for API_TOKEN_DAYS after the token was issued."""

    def authenticate_credentials(self, key):
        token = TOKEN.first(key)
        # DRF's own answers (its messages, translated by its catalogue).
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("The token has expired; ask for a new one with your username and password.")
            )
        return user, token


@receiver(pre_save, sender=User)
def revoke_tokens_on_password_change(sender, instance: User, update_fields=None, **kwargs):
    """A new password ends the API token too (sessions end through Django's session hash):
    whoever learnt the old password must not keep a way in."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()
