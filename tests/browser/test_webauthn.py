"""A security key in real Chromium: Chromium's virtual authenticator (DevTools protocol
``WebAuthn.addVirtualAuthenticator``) plays the key. An operator adds it on the security-keys
page, logs out, logs in with the password and then the key instead of the app's code; the
library's self-hosted module runs under the strict policy without a violation."""

from collections.abc import Callable
from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tepat.accounts.models import Role
from tests.browser.login import log_in
from tests.browser.test_csp import Watched, watched  # noqa: F401  (the fixture)
from tests.world import PASSWORD, World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_operator_adds_a_security_key_and_logs_in_with_it(
    watched: Callable[[], Watched],  # noqa: F811
    live_server: Any,
    world: World,
) -> None:
    watch = watched()
    page = watch.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    base = live_server.url
    operator = world.users[Role.OPERATOR_OPD]
    log_in(page, base, operator.username)  # the app's code, as at every login so far
    watch.visit(f"{base}/akun/mfa/kunci-keamanan/")
    page.click("#passkey-register-button")
    expect(page.locator("#passkey-register-status-message")).to_contain_text("berhasil")
    assert WebAuthnCredential.objects.filter(user=operator).count() == 1

    page.context.clear_cookies()  # logged out
    page.goto(f"{base}/akun/masuk/?next=/org/pegawai/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/akun/mfa/verifikasi/**")
    page.click("#passkey-verification-button")
    page.wait_for_url(lambda url: "/akun/" not in url and url.endswith("/org/pegawai/"))
    expect(page.locator("h1")).to_be_visible()
    watch.assert_clean()
