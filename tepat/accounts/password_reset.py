"""Self-service password reset by NIP or username, answering the same whatever was typed.

ASN log in with their NIP, and many have no e-mail address on record: the form asks for the
NIP (or username), sends Django's one-time link to the address on record when there is one,
and always shows the same page, so it tells nobody whether an account exists or has an
address. Without an address, the page says who resets passwords (the OPD operator or BKPSDM,
in the admin). The link is Django's signed token: single use, expiring after
``PASSWORD_RESET_TIMEOUT``; staff still need their second step after the reset.
"""

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

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


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetSetView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetFinishedView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
