"""Production settings refuse to start half-configured and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "TEPAT_ENV": "production",
    "SECRET_KEY": "k" * 20 + "3x!Zq9" + "w" * 30,
    "ALLOWED_HOSTS": "presensi.mukomukokab.go.id",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a production check.
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "-m", "tepat.cli", *args],
        cwd=ROOT,
        env={**clean, "TEPAT_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_the_deploy_check(tmp_path: Path) -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing: str, tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{missing}" in result.stderr


def test_demo_generates_and_keeps_its_secret_key(tmp_path: Path) -> None:
    assert _manage("check", env={}, tmp_path=tmp_path).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert _manage("check", env={}, tmp_path=tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_secret_key_file_variant(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s" * 64 + "\n")
    env = {**PRODUCTION_ENV, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret)}
    assert _manage("check", env=env, tmp_path=tmp_path).returncode == 0


@pytest.mark.django_db
def test_healthz_reports_the_database() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}


def test_assets_are_served_by_tepat_itself() -> None:
    """No CDN: the stylesheet and scripts come from Tepat's own server."""
    response = Client().get("/static/tepat/tepat.css")
    assert response.status_code == 200
    assert b"--brand" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_the_alerts_mail_relay_comes_from_the_environment(tmp_path: Path) -> None:
    password = tmp_path / "smtp-password"
    password.write_text("rahasia-relay\n", encoding="utf-8")
    env = {
        "EMAIL_HOST": "mail.mukomukokab.go.id", "EMAIL_PORT": "587", "EMAIL_USE_TLS": "1",
        "EMAIL_HOST_USER": "tepat", "EMAIL_HOST_PASSWORD_FILE": str(password),
        "DEFAULT_FROM_EMAIL": "Tepat <tepat@mukomukokab.go.id>",
    }  # fmt: skip
    show = (
        "from django.conf import settings as s; o = s.MAILERS['default']['OPTIONS'];"
        " print(o['host'], o['port'], o['use_tls'], o['password'] == 'rahasia-relay',"
        " s.DEFAULT_FROM_EMAIL, o['timeout'])"
    )

    result = _manage("shell", "-c", show, env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "mail.mukomukokab.go.id 587 True True Tepat <tepat@mukomukokab.go.id> 10"
    )


def test_starttls_and_ssl_together_are_refused(tmp_path: Path) -> None:
    env = {"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}

    result = _manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "EMAIL_USE_SSL" in result.stderr
