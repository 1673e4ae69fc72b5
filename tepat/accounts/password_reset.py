"""Self-service password reset by NIP or username, answering the same whatever was typed.

ASN log in with their NIP, and many have no e-mail address on record: the form asks for the
NIP (or username), sends Django's one-time link to the address on record when there is one,
and always shows the same page, so it tells nobody whether an account exists or has an
address. Without an address, the page says who resets passwords (the OPD operator or BKPSDM,
in the admin). The link is Django's signed token: single use, expiring after
``PASSWORD_RESET_TIMEOUT``; staff still need their second step after the reset.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from tepat.accounts import throttle
from tepat.accounts.models import User


class PasswordResetRequestForm(PasswordResetForm):
    email = None  # type: ignore[assignment]  # asked by NIP or username instead
    username = forms.CharField(label=_("NIP or username"), max_length=150)

    def get_users(self, email: str) -> Iterator[Any]:
        """The active account with this username and an address on record, if any."""
        username = self.cleaned_data.get("username", "").strip()
        for user in User.objects.filter(username=username, is_active=True):
            if user.email and user.has_usable_password():
                yield user

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.cleaned_data["email"] = ""  # unused: get_users looks the account up by username
        super().save(*args, **kwargs)


class PasswordResetRequestView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        hour = timedelta(hours=1)
        ip_address = throttle.client_ip(self.request)
        if not throttle.rate_allowed(
            "reset-ip", ip_address, limit=settings.PASSWORD_RESET_LIMIT_PER_IP, window=hour
        ):
            context = self.get_context_data(form=form, too_many=True)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = "3600"
            return response
        username = form.cleaned_data["username"].strip()
        if not throttle.rate_allowed(
            "reset-account", username, limit=settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT, window=hour
        ):
            return HttpResponseRedirect(self.get_success_url())  # the same answer, no mail
        return super().form_valid(form)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetSetView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetFinishedView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
