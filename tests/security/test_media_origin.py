"""Private downloads from a separate media origin (``TEPAT_MEDIA_ORIGIN``): off by default;
when set, the application's origin only hands out a short-lived encrypted link, and only the
media origin serves the bytes, as a sandboxed attachment."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tepat.kinerja.models import DailyReport
from tests.kinerja.reports import PDF
from tests.world import TODAY, World, login

pytestmark = pytest.mark.django_db
MEDIA = "https://berkas.tepat.test"
FILED_AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Mukomuko, the day filed


@pytest.fixture(autouse=True)
def _private_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def _report_with_pdf(world: World) -> tuple[Client, DailyReport]:
    client = login(Client(), world.users["asn"])
    form = {
        "day": TODAY.isoformat(), "start_time": "08:00", "end_time": "10:30",
        "activity": "Menyusun RPP kelas 4", "output": "RPP", "quantity": "1", "unit": "dokumen",
        "attachment": SimpleUploadedFile("bukti.pdf", PDF, "application/pdf"),
    }  # fmt: skip
    with time_machine.travel(FILED_AT, tick=False):
        assert client.post("/kinerja/laporan/baru/", form).status_code == 302
    return client, DailyReport.objects.get()


def _media_on(settings: Any) -> None:
    settings.TEPAT_MEDIA_ORIGIN = MEDIA
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "berkas.tepat.test"]


def _fetch(url: str) -> Any:
    parts = urlsplit(url)
    return Client().get(parts.path, HTTP_HOST=parts.netloc, secure=parts.scheme == "https")


def test_off_by_default_the_application_serves_the_download(world: World, settings: Any) -> None:
    assert settings.TEPAT_MEDIA_ORIGIN == ""
    client, report = _report_with_pdf(world)
    download = client.get(f"/kinerja/laporan/{report.pk}/lampiran/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert client.get("/berkas/anything/").status_code == 404


def test_with_a_media_origin_the_bytes_come_only_from_there(world: World, settings: Any) -> None:
    _media_on(settings)
    client, report = _report_with_pdf(world)
    handed = client.get(f"/kinerja/laporan/{report.pk}/lampiran/")
    assert handed.status_code == 302
    link = handed["Location"]
    assert link.startswith(f"{MEDIA}/berkas/")
    # The link shows neither the storage path nor the file name (which carries a NIP).
    assert "kinerja" not in link
    assert world.teacher.nip not in link

    served = _fetch(link)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF
    assert served["Content-Disposition"].startswith("attachment;")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["Content-Security-Policy"].startswith("default-src 'none'")
    # The same link on the application's own origin: nothing.
    assert client.get(urlsplit(link).path).status_code == 404


def test_a_link_is_short_lived_and_cannot_be_altered(world: World, settings: Any) -> None:
    _media_on(settings)
    client, report = _report_with_pdf(world)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        link = client.get(f"/kinerja/laporan/{report.pk}/lampiran/")["Location"]
        token = urlsplit(link).path.split("/")[2]
        altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert _fetch(link.replace(token, altered)).status_code == 404
        assert _fetch(f"{MEDIA}/berkas/bm90LWEtbGluaw/").status_code == 404
        clock.move_to(start + timedelta(seconds=settings.TEPAT_MEDIA_LINK_SECONDS + 1))
        assert _fetch(link).status_code == 404


def test_no_link_for_someone_who_may_not_see_the_file(world: World, settings: Any) -> None:
    _media_on(settings)
    _, report = _report_with_pdf(world)
    stranger = login(Client(), world.users["operator_other"])  # Dinas Kesehatan
    assert stranger.get(f"/kinerja/laporan/{report.pk}/lampiran/").status_code == 404


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("https://berkas.mukomukokab.go.id", True),
        ("http://berkas.mukomukokab.go.id", False),  # production: HTTPS only
        ("https://presensi.mukomukokab.go.id", False),  # the application's own host
        ("https://berkas.mukomukokab.go.id/unduh", False),  # an origin has no path
    ],
)
def test_production_checks_the_media_origin(origin: str, ok: bool, tmp_path: Path) -> None:
    from tests.test_settings import PRODUCTION_ENV, _manage

    env = {**PRODUCTION_ENV, "TEPAT_MEDIA_ORIGIN": origin}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert (result.returncode == 0) is ok, result.stderr[-500:]
    if not ok:
        assert "TEPAT_MEDIA_ORIGIN" in result.stderr
