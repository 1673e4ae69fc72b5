"""Every response carries the strict Content Security Policy and the other browser-side
defences; production adds HSTS and __Host- cookies. The same policy is sent on the Django 5.2
fallback, where Django has no CSP middleware."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tepat.security.middleware import BUILTIN_CSP_MIDDLEWARE, csp_header_value
from tests.world import World, login

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
}

PAGES = [
    "/akun/masuk/",
    "/app/",
    "/app/sw.js",
    "/healthz",
    "/.well-known/security.txt",
    "/api/v1/docs",
    "/admin/login/",
]


def _directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_strict_policy(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.django_db
def test_logged_in_pages_carry_the_policy_too(world: World) -> None:
    client = login(Client(), world.users["superadmin"])
    for path in ["/", "/org/pegawai/", f"/org/lokasi/{world.school_site.pk}/", "/admin/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _directives(response["Content-Security-Policy"]) == EXPECTED_CSP, path


@pytest.mark.django_db
def test_the_other_browser_defences() -> None:
    response = Client().get("/akun/masuk/")
    permissions = {
        rule.split("=")[0].strip(): rule.split("=")[1]
        for rule in response["Permissions-Policy"].split(",")
    }
    assert permissions["geolocation"] == "(self)"
    assert permissions["camera"] == "()"
    assert permissions["microphone"] == "()"
    assert permissions["payment"] == "()"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # the demo runs on plain HTTP too


@pytest.mark.django_db
def test_a_logged_in_page_is_not_kept_in_the_browser_cache(world: World) -> None:
    """A shared office PC: after logout, Back must not show the last person's page."""
    assert "Cache-Control" not in Client().get("/app/")  # the public app shell
    client = login(Client(), world.users["operator_opd"])
    for path in ["/", "/org/pegawai/", "/api/v1/accounts/me"]:
        assert "no-store" in client.get(path)["Cache-Control"], path
    # A view's own caching decision stands (the service worker must revalidate, not vanish).
    assert client.get("/app/sw.js")["Cache-Control"] == "no-cache"


@pytest.mark.django_db
def test_a_view_may_still_set_its_own_header(settings: Any) -> None:
    """The middleware fills in, it does not overwrite: a future narrow override stays narrow."""
    from django.http import HttpResponse

    from tepat.security.middleware import SecurityHeadersMiddleware

    def view(request: Any) -> HttpResponse:
        response = HttpResponse("x")
        response["Permissions-Policy"] = "geolocation=()"
        return response

    response = SecurityHeadersMiddleware(view)(Client().request().wsgi_request)  # type: ignore[arg-type]
    assert response["Permissions-Policy"] == "geolocation=()"


@pytest.mark.django_db
def test_without_djangos_csp_middleware_the_same_policy_is_sent(settings: Any) -> None:
    """What Django 5.2 (Python 3.11) gets: tepat.security's fixed header, word for word."""
    with_builtin = Client().get("/akun/masuk/")["Content-Security-Policy"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != BUILTIN_CSP_MIDDLEWARE]

    response = Client().get("/akun/masuk/")

    assert response["Content-Security-Policy"] == csp_header_value(settings.SECURE_CSP)
    assert response["Content-Security-Policy"] == with_builtin


PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# The hashed static manifest is built by collectstatic at release time, not here.
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="presensi.mukomukokab.go.id")
page = client.get("/akun/masuk/")
txt = client.get("/.well-known/security.txt")
language = client.post("/i18n/setlang/", {"language": "en", "next": "/akun/masuk/"})
cookies = {**page.cookies, **language.cookies}
print(json.dumps({
    "status": page.status_code,
    "headers": dict(page.headers),
    "cookies": {name: dict(morsel) for name, morsel in cookies.items()},
    "security_txt": txt.content.decode(),
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE],
}))
"""


def test_production_adds_hsts_and_host_only_cookies(tmp_path: Path) -> None:
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        TEPAT_ENV="production",
        SECRET_KEY="p" * 30 + "9Zx!q2" + "r" * 30,
        ALLOWED_HOSTS="presensi.mukomukokab.go.id",
        TEPAT_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="tepat.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert probe["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert _directives(headers["Content-Security-Policy"]) == EXPECTED_CSP
    assert headers["Permissions-Policy"].startswith("geolocation=(self)")
    for name in ["__Host-csrftoken", "__Host-language"]:
        cookie = probe["cookies"][name]
        assert cookie["secure"] is True, name
        assert cookie["path"] == "/", name
        assert not cookie["domain"], name
        assert cookie["httponly"] is True, name
    assert probe["session_cookie"] == ["__Host-sessionid", True]
    lines = probe["security_txt"].splitlines()
    assert "Contact: mailto:security@presensi.mukomukokab.go.id" in lines
    assert "Canonical: https://presensi.mukomukokab.go.id/.well-known/security.txt" in lines


def test_settings_policy_is_the_documented_one() -> None:
    assert django_settings.SECURE_CSP == EXPECTED_CSP
