"""Logging a person in through the real login page, with the second step for staff roles."""

from typing import Any

from tepat.accounts.mfa import mfa_required
from tepat.accounts.models import User
from tests.world import PASSWORD, mfa_device, totp_code


def log_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Password on the login page; a staff account then types the code its app shows."""
    user = User.objects.filter(username=username).first()
    if user is not None and mfa_required(user):
        mfa_device(user)
    page.goto(f"{base}/akun/masuk/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    if "/akun/mfa/verifikasi/" in page.url:
        page.fill("#id_code", totp_code(User.objects.get(username=username)))
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
