"""The private files in an S3 bucket (``TEPAT_STORAGE_URL``), against a real S3 API: moto's
server on a local port. Selfies, absence evidence and report attachments go in through the
real check-in API and pages, come back out only through the authorised downloads, stay
private in the bucket, are seen by a second node, and are in the backups."""

import base64
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tepat.env import storage_s3_options
from tepat.kinerja.models import DailyReport
from tepat.presence.models import AbsenceRequest, CheckinEvent
from tests.kinerja.reports import PDF
from tests.presence.phone import Phone
from tests.world import TODAY, World, login

try:
    import boto3
    from moto import server as moto_server
except ImportError:
    if os.environ.get("TEPAT_REQUIRE_TOOLS") == "1":
        raise  # CI installs tepat[test]: without moto there these tests must fail, not skip
    pytest.skip("moto[server] and boto3 (tepat[test]) are not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
SCHOOL = (-2.4233, 101.1667)
FILED_AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Mukomuko, the day filed
KEYS = {"access_key": "tepat-node", "secret_key": "rahasia-node-" + "x" * 20}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str) -> Any:
    """The store as its administrator sees it (not through Tepat)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )


@pytest.fixture
def storage_url(endpoint: str, s3: Any) -> str:
    bucket = f"tepat-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/mukomuko?endpoint={endpoint}&region=us-east-1&sse=AES256"


def node_storages(settings: Any, storage_url: str) -> None:
    """What settings.py makes of TEPAT_STORAGE_URL on a node; each call a fresh client."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tepat.object_storage.PrivateS3Storage",
            "OPTIONS": storage_s3_options(storage_url, production=False, **KEYS),
        },
    }


@pytest.fixture
def bucket(settings: Any, storage_url: str) -> str:
    node_storages(settings, storage_url)
    return urlsplit(storage_url).netloc


def _key(name: str) -> str:
    return f"mukomuko/{name}"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(out, format="JPEG")
    return out.getvalue()


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def assert_private(s3: Any, bucket: str, endpoint: str, name: str) -> dict[str, Any]:
    """Only the owner is granted anything, and a request without keys is refused."""
    head = s3.head_object(Bucket=bucket, Key=_key(name))
    grants = s3.get_object_acl(Bucket=bucket, Key=_key(name))["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)
    with pytest.raises(Exception, match="403"):
        urlopen(f"{endpoint}/{bucket}/{_key(name)}", timeout=10)  # noqa: S310  # local moto
    return head


def test_a_selfie_goes_to_the_bucket_and_out_only_to_its_reviewers(
    world: World, bucket: str, s3: Any, endpoint: str, tmp_path: Path
) -> None:
    phone = Phone()
    phone.login(world.teacher.nip)
    assert phone.send(phone.checkin(*SCHOOL, selfie_bytes=_jpeg())).status_code == 201
    event = CheckinEvent.objects.get()
    stored = s3.get_object(Bucket=bucket, Key=_key(event.selfie))["Body"].read()
    head = assert_private(s3, bucket, endpoint, event.selfie)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentDisposition"] == "attachment"
    assert not any(tmp_path.rglob("*.jpg"))  # nothing on this node's disk

    url = f"/presensi/swafoto/{event.pk}/"
    download = login(Client(), world.users["atasan"]).get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="swafoto-')
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Length"] == str(len(stored))
    assert _body(download) == stored
    for role in ("operator_opd", "auditor", "operator_other"):
        refused = login(Client(), world.users[role]).get(url)
        assert refused.status_code == 404, role
    assert Client().get(url).status_code == 302  # to the login page


def test_absence_evidence_is_downloaded_from_the_bucket_by_the_approver_only(
    world: World, bucket: str, s3: Any, endpoint: str
) -> None:
    letter = b"%PDF-1.4\n1 0 obj\nendobj\n%%EOF\n"
    form = {
        "employee": world.teacher.pk, "type": "dinas_luar", "first_day": "2026-11-24",
        "last_day": "2026-11-25", "reason": "Rapat koordinasi di provinsi",
        "evidence": SimpleUploadedFile("surat tugas.pdf", letter),
    }  # fmt: skip
    with time_machine.travel(FILED_AT, tick=False):
        filed = login(Client(), world.users["asn"]).post("/presensi/ajuan/baru/", form)
    assert filed.status_code == 302
    item = AbsenceRequest.objects.get()
    assert s3.get_object(Bucket=bucket, Key=_key(item.evidence))["Body"].read() == letter
    assert_private(s3, bucket, endpoint, item.evidence)

    url = f"/presensi/ajuan/{item.pk}/bukti/"
    download = login(Client(), world.users["atasan"]).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert _body(download) == letter
    assert login(Client(), world.users["operator_other"]).get(url).status_code == 404


def _report_with_attachment(world: World) -> tuple[Client, DailyReport]:
    """A teacher files a report with a PDF from the phone app (the API); her web session."""
    phone = Phone()
    phone.login(world.teacher.nip)
    item = {
        "id": str(uuid.uuid4()), "day": TODAY.isoformat(), "minutes": 90,
        "activity": "Menyusun RPP kelas 4", "attachment": base64.b64encode(PDF).decode(),
    }  # fmt: skip
    with time_machine.travel(FILED_AT, tick=False):
        filed = phone.client.post(
            "/api/v1/kinerja/reports", json.dumps(item), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {phone.token}",
        )  # fmt: skip
    assert filed.status_code == 201, filed.content
    return login(Client(), world.users["asn"]), DailyReport.objects.get()


def test_a_second_node_serves_the_attachment_the_first_one_stored(
    world: World,
    bucket: str,
    s3: Any,
    endpoint: str,
    settings: Any,
    storage_url: str,
    tmp_path: Path,
) -> None:
    _, report = _report_with_attachment(world)
    assert_private(s3, bucket, endpoint, report.attachment)

    # Another node: its own client, built from the same setting...
    node_storages(settings, storage_url)
    url = f"/kinerja/laporan/{report.pk}/lampiran/"
    download = login(Client(), world.users["atasan"]).get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="lampiran-')
    assert _body(download) == PDF
    assert login(Client(), world.users["operator_other"]).get(url).status_code == 404

    # ...and another process, configured only by its environment (another TEPAT_DATA_DIR).
    read = (
        "from django.core.files.storage import default_storage as s; import hashlib; "
        f"print(hashlib.sha256(s.open({report.attachment!r}).read()).hexdigest())"
    )
    env = {
        **os.environ,
        "TEPAT_STORAGE_URL": storage_url,
        "TEPAT_STORAGE_ACCESS_KEY": KEYS["access_key"],
        "TEPAT_STORAGE_SECRET_KEY": KEYS["secret_key"],
        "TEPAT_DATA_DIR": str(tmp_path / "node2"),
    }
    node2 = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "shell", "--no-imports", "-c", read],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert node2.returncode == 0, node2.stderr[-800:]
    assert node2.stdout.strip() == hashlib.sha256(PDF).hexdigest()


def test_the_media_origin_streams_the_object_and_no_bucket_url_is_made(
    world: World, bucket: str, settings: Any
) -> None:
    settings.TEPAT_MEDIA_ORIGIN = "https://berkas.tepat.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "berkas.tepat.test"]
    client, report = _report_with_attachment(world)
    redirect = client.get(f"/kinerja/laporan/{report.pk}/lampiran/")
    link = urlsplit(redirect["Location"])
    assert link.netloc == "berkas.tepat.test"
    assert bucket not in redirect["Location"]
    served = Client().get(link.path, HTTP_HOST=link.netloc, secure=True)
    assert served.status_code == 200
    assert "sandbox" in served["Content-Security-Policy"]
    assert _body(served) == PDF
    with pytest.raises(NotImplementedError, match="private_download"):
        default_storage.url(report.attachment)


def test_a_missing_object_is_not_found_not_a_server_error(
    world: World, bucket: str, s3: Any, settings: Any
) -> None:
    client, report = _report_with_attachment(world)
    s3.delete_object(Bucket=bucket, Key=_key(report.attachment))
    assert client.get(f"/kinerja/laporan/{report.pk}/lampiran/").status_code == 404
    settings.TEPAT_MEDIA_ORIGIN = "https://berkas.tepat.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "berkas.tepat.test"]
    link = urlsplit(client.get(f"/kinerja/laporan/{report.pk}/lampiran/")["Location"])
    assert Client().get(link.path, HTTP_HOST=link.netloc, secure=True).status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_holds_the_objects_and_a_restore_puts_them_back(
    world: World, bucket: str, s3: Any, tmp_path: Path
) -> None:
    from tepat.backups.archive import backup_create, backup_restore

    kept = default_storage.save("evidence/7/surat.pdf", ContentFile(PDF))
    backup = backup_create(tmp_path / "backups")
    with tarfile.open(backup.path / "uploads.tar") as tar:
        assert tar.getnames() == [kept]
        member = tar.extractfile(kept)
        assert member is not None
        assert member.read() == PDF
    assert json.loads((backup.path / "manifest.json").read_text())["files"]["uploads.tar"]

    s3.delete_object(Bucket=bucket, Key=_key(kept))  # lost
    default_storage.save("shell.php", ContentFile(b"<?php system($_GET['c']);"))  # planted
    backup_restore(backup.path)

    names = {name for name, _ in default_storage.names()}
    assert kept in names
    assert "shell.php" not in names
    aside = [name for name in names if name.startswith("before-restore-")]
    assert [name.split("/", 1)[1] for name in aside] == ["shell.php"]
    body, size = default_storage.stream(kept)
    assert (body.read(), size) == (PDF, len(PDF))
    # The next backup leaves what was set aside out.
    with tarfile.open(backup_create(tmp_path / "again").path / "uploads.tar") as tar:
        assert tar.getnames() == [kept]
