"""Optional two-factor login (TOTP, django-otp) for anyone who turns it on: recommended for
staff with dashboard or admin rights. A person with a confirmed authenticator must give
its six-digit code after the password, on the login page and when asking for an API token.

Sessions already open when the authenticator is turned on stay open until they end (12
hours at most); changing the password ends them at once."""

import base64

import django_otp
import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "authenticator"


def confirmed_device(user) -> TOTPDevice | None:
    if user is None or not user.pk:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def check_code(device: TOTPDevice, code: str) -> bool:
    """The code against the device, honouring django-otp's throttling of wrong codes."""
    allowed, _details = device.verify_is_allowed()
    return bool(allowed and (code or "").strip() and device.verify_token(code.strip()))


class LoginForm(AuthenticationForm):
    """Username and password; then the authenticator's code, for those who have one."""

    otp_token = forms.CharField(
        label=gettext_lazy("Authenticator code"), required=False, max_length=8
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = confirmed_device(user)
        self.otp_device = device
        if device is not None:
            self.needs_code = True
            if not check_code(device, cleaned.get("otp_token", "")):
                raise forms.ValidationError(
                    _("Enter the six-digit code from your authenticator app."),
                    code="otp_required",
                )
        return cleaned


class Login(LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.otp_device is not None:
            django_otp.login(self.request, form.otp_device)
        return response


def _qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
def two_factor(request):
    """Turn the authenticator on (scan, then confirm with a code) or off (with a code)."""
    user = request.user
    device = confirmed_device(user)
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        if device is not None:  # turning it off
            if check_code(device, code):
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("Two-factor login is off."))
                return redirect("two_factor")
            error = _("That code is not right; two-factor login stays on.")
        else:
            pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
            if pending is not None and check_code(pending, code):
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                django_otp.login(request, pending)
                messages.success(request, _("Two-factor login is on."))
                return redirect("two_factor")
            error = _("That code is not right. Check the time on your phone and try again.")
    pending = None
    if device is None:
        pending, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": DEVICE_NAME}
        )
    context = {
        "enabled": device is not None,
        "qr": _qr_data_uri(pending.config_url) if pending else "",
        "secret": base64.b32encode(pending.bin_key).decode() if pending else "",
        "error": error,
    }
    return render(request, "registration/two_factor.html", context, status=400 if error else 200)
