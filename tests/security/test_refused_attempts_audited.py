"""A web shell uploaded, a staff login that stops at the second step, another OPD's record
asked for: each gets nowhere, with the same answer as before, and is a row in the audit trail
(who, what, from where) — at most one a minute per account and kind, however many come."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

import tepat.urls
from tepat.accounts.models import Role
from tepat.audit.attempts import (
    MFA_CODE_WRONG,
    MFA_SKIPPED,
    OUT_OF_SCOPE,
    UPLOAD_REFUSED,
    AttemptAuditMiddleware,
)
from tepat.audit.models import AuditEntry
from tepat.kinerja.attachments import AttachmentRejected, attachment_clean
from tepat.org.admin_import import import_view
from tepat.presence.evidence import EvidenceRejected, evidence_clean
from tepat.presence.selfies import SelfieRejected, selfie_reencode
from tests.security.test_upload_attacks import REFUSED
from tests.world import PASSWORD, TODAY, World, login, mfa_device

pytestmark = pytest.mark.django_db
urlpatterns = [
    path("admin/org/impor/", admin.site.admin_view(import_view), name="org_import"),
    *tepat.urls.urlpatterns,
]


def _rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _report(payload: bytes) -> dict[str, object]:
    return {
        "day": TODAY.isoformat(), "start_time": "08:00", "end_time": "10:30",
        "activity": "Menyusun RPP kelas 4", "output": "RPP", "quantity": "1", "unit": "dokumen",
        "attachment": SimpleUploadedFile("laporan.pdf", payload, "application/pdf"),
    }  # fmt: skip


def test_a_web_shell_attached_to_a_work_report_is_refused_and_audited(world: World) -> None:
    client = login(Client(), world.users[Role.ASN])
    response = client.post(
        "/kinerja/laporan/baru/", _report(REFUSED["php-renamed"]), REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 400
    assert "Lampiran harus berupa berkas PDF, JPEG, atau PNG." in response.content.decode()
    [row] = _rows(UPLOAD_REFUSED)
    assert row.actor == world.users[Role.ASN]
    assert row.object_type == "upload.kinerja_attachment"
    assert row.ip_address == "203.0.113.7"
    assert row.after is not None
    assert row.after["path"] == "/kinerja/laporan/baru/"
    assert "php" not in str(row.after).lower()  # the file and its name are not kept


@pytest.mark.parametrize(
    ("clean", "refusal", "kind"),
    [
        (selfie_reencode, SelfieRejected, "upload.selfie"),
        (evidence_clean, EvidenceRejected, "upload.absence_evidence"),
        (attachment_clean, AttachmentRejected, "upload.kinerja_attachment"),
    ],
    ids=["selfie", "absence-evidence", "kinerja-attachment"],
)
def test_every_upload_refusal_is_an_audit_row(
    world: World, clean: Callable[[bytes], object], refusal: type[Exception], kind: str
) -> None:
    """Whichever upload refuses the file, the refusal is noted and written after the answer
    (here the middleware around a view that cleans a file and answers 400)."""

    def view(request: HttpRequest) -> HttpResponse:
        with pytest.raises(refusal):
            clean(REFUSED["svg-with-script"])
        return HttpResponse(status=400)

    request = RequestFactory().post("/unggah/", REMOTE_ADDR="203.0.113.8")
    request.user = world.users[Role.ASN]
    assert AttemptAuditMiddleware(view)(request).status_code == 400
    [row] = _rows(UPLOAD_REFUSED)
    assert (row.object_type, row.actor, row.ip_address) == (
        kind,
        world.users[Role.ASN],
        "203.0.113.8",
    )


def test_a_refusal_outside_a_request_writes_nothing() -> None:
    """A command or a task has no person or address to record: the cleaner still refuses."""
    with pytest.raises(SelfieRejected):
        selfie_reencode(REFUSED["php-renamed"])
    assert not AuditEntry.objects.exists()


@pytest.mark.urls(__name__)
def test_a_php_file_given_to_the_admin_import_is_refused_and_audited(world: World) -> None:
    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    shell = SimpleUploadedFile("shell.php", b"<?php system($_GET['c']); ?>", "text/csv")
    response = client.post("/admin/org/impor/", {"kind": "opd", "file": shell})
    assert response.status_code == 200
    assert "Jenis berkas tidak didukung" in response.content.decode()
    [row] = _rows(UPLOAD_REFUSED)
    assert (row.actor, row.object_type) == (world.users[Role.ADMIN_BKPSDM], "upload.org_import")


def test_a_staff_login_without_the_second_step_gets_nowhere_and_is_audited(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    mfa_device(operator)
    client = Client(REMOTE_ADDR="198.51.100.4")
    assert (
        client.post("/akun/masuk/", {"username": operator.username, "password": PASSWORD})[
            "Location"
        ]
        == "/"
    )
    # Every login lands here first on its way to the code: not an attempt.
    assert client.get("/")["Location"] == "/akun/mfa/verifikasi/?next=/"
    assert not _rows(MFA_SKIPPED)

    assert client.get("/org/pegawai/")["Location"] == "/akun/mfa/verifikasi/?next=/org/pegawai/"
    [row] = _rows(MFA_SKIPPED)
    assert (row.actor, row.ip_address) == (operator, "198.51.100.4")
    assert row.after == {"path": "/org/pegawai/"}

    api = client.get("/api/v1/org/employees")
    assert api.status_code == 403
    assert len(_rows(MFA_SKIPPED)) == 1  # the same minute: no second row

    wrong = client.post("/akun/mfa/verifikasi/", {"code": "000000"})
    assert wrong.status_code == 400
    [row] = _rows(MFA_CODE_WRONG)
    assert row.actor == operator
    assert "wrong second-factor code" in row.summary


def test_an_operator_asking_for_another_opds_employee_gets_404_and_an_audit_row(
    world: World,
) -> None:
    operator = world.users[Role.OPERATOR_OPD]  # Dinas Pendidikan
    client = login(Client(REMOTE_ADDR="192.0.2.9"), operator)
    mine = client.get(f"/org/pegawai/{world.teacher.pk}/")
    assert mine.status_code == 200
    missing = client.get("/org/pegawai/987654/")  # no such record: no attempt on anyone's data
    assert missing.status_code == 404
    assert not _rows(OUT_OF_SCOPE)

    other = client.get(f"/org/pegawai/{world.nurse.pk}/")  # Dinas Kesehatan
    assert other.status_code == 404
    assert other.content == missing.content  # the same answer: an id tells nothing
    [row] = _rows(OUT_OF_SCOPE)
    assert row.actor == operator
    assert (row.object_type, row.object_id) == ("org.employee", str(world.nurse.pk))
    assert row.ip_address == "192.0.2.9"


def test_the_api_answers_as_before_and_is_covered_by_the_same_hook(world: World) -> None:
    client = login(Client(), world.users["operator_other"])  # Dinas Kesehatan
    response = client.get(f"/api/v1/org/employees/{world.teacher.pk}")
    missing = client.get("/api/v1/org/employees/987654")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    [row] = _rows(OUT_OF_SCOPE)
    assert (row.actor, row.object_id) == (world.users["operator_other"], str(world.teacher.pk))
    assert row.after == {"path": f"/api/v1/org/employees/{world.teacher.pk}"}


def test_a_flood_is_one_row_per_account_kind_and_minute(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    client = login(Client(), operator)
    start = datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(30):
            assert client.get(f"/org/pegawai/{world.nurse.pk}/").status_code == 404
        assert len(_rows(OUT_OF_SCOPE)) == 1
        clock.move_to(start + timedelta(minutes=1))
        assert client.get(f"/org/pegawai/{world.kadinkes.pk}/").status_code == 404
    assert len(_rows(OUT_OF_SCOPE)) == 2
    # Another account's attempt in the same minute is its own row.
    other = login(Client(), world.users[Role.KEPALA_OPD])
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert other.get(f"/org/pegawai/{world.nurse.pk}/").status_code == 404
    assert len(_rows(OUT_OF_SCOPE)) == 3
