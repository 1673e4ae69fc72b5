"""A login on a shared office PC ends when the browser closes, and at the latest after a
working day (12 h)."""

import pytest
from django.conf import settings
from django.test import Client

from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def test_the_session_cookie_dies_with_the_browser(world: World) -> None:
    client = Client()
    response = client.post("/akun/masuk/", {"username": "bkpsdm", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert client.session.get_expiry_age() == 12 * 60 * 60
