"""The e-Kinerja pages and API as their users meet them: filing (with an attachment that must
really be a PDF, JPEG or PNG), the download's headers, the supervisor's queue with single and
bulk decisions, the team view's scope and XLSX, and the phone's idempotent offline batch."""

import base64
import io
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook
from PIL import Image

from tepat.kinerja import services
from tepat.kinerja.models import DailyReport, MonthlyEvaluation
from tests.exports.flow import export_download, file_bytes
from tests.kinerja.conftest import report_input
from tests.kinerja.reports import PDF
from tests.presence.phone import Phone
from tests.world import TODAY, World, login


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "day": TODAY.isoformat(),
        "start_time": "08:00",
        "end_time": "10:30",
        "activity": "Menyusun RPP kelas 4",
        "output": "RPP",
        "quantity": "1",
        "unit": "dokumen",
    }
    data.update(extra)
    return data


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="PNG")
    return out.getvalue()


def test_a_teacher_files_a_report_with_a_pdf_and_sees_it(world: World, tmp_path: Path) -> None:
    client = login(Client(), world.users["asn"])
    response = client.post(
        "/kinerja/laporan/baru/",
        _form(attachment=SimpleUploadedFile("bukti.pdf", PDF, "application/pdf")),
    )
    assert response.status_code == 302
    report = DailyReport.objects.get()
    assert (report.minutes, report.status, report.attachment_type) == (
        150,
        "pending",
        "application/pdf",
    )
    assert report.attachment.endswith(".pdf")
    page = client.get("/kinerja/").content.decode()
    assert "Menyusun RPP kelas 4" in page
    download = client.get(f"/kinerja/laporan/{report.pk}/lampiran/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("laporan.pdf", b"<html><script>alert(1)</script></html>"),
        ("laporan.pdf", b"<?php system($_GET['c']); ?>"),
        ("laporan.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>"),  # no trailer
        ("foto.jpg", b"\xff\xd8\xff\xe0<?php system($_GET['c']); ?>"),
        ("gambar.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("foto.gif", b"GIF89a" + b"\x00" * 64),
    ],
    ids=["html-as-pdf", "php-as-pdf", "pdf-header-only", "php-as-jpeg", "svg-as-png", "gif"],
)
def test_anything_but_pdf_jpeg_png_is_refused_and_nothing_stored(
    world: World, name: str, payload: bytes
) -> None:
    client = login(Client(), world.users["asn"])
    response = client.post(
        "/kinerja/laporan/baru/",
        _form(attachment=SimpleUploadedFile(name, payload, "application/pdf")),
    )
    assert response.status_code == 400
    assert "Lampiran harus berupa berkas PDF, JPEG, atau PNG." in response.content.decode()
    assert not DailyReport.objects.exists()


def test_a_pdf_with_javascript_is_refused_with_the_reason(world: World) -> None:
    client = login(Client(), world.users["asn"])
    script = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF\n"
    response = client.post(
        "/kinerja/laporan/baru/",
        _form(attachment=SimpleUploadedFile("laporan.pdf", script, "application/pdf")),
    )
    assert response.status_code == 400
    assert "PDF berisi skrip atau berkas sisipan" in response.content.decode()
    assert not DailyReport.objects.exists()


def test_images_are_reencoded_without_their_metadata(world: World) -> None:
    out = io.BytesIO()
    image = Image.new("RGB", (50, 50), "blue")
    exif = Image.Exif()
    exif[0x010F] = "KameraRahasia"
    image.save(out, format="JPEG", exif=exif)
    report = services.report_create(
        actor=world.users["asn"],
        employee=world.teacher,
        data=report_input(attachment=out.getvalue()),
        source="web",
    ).report
    from django.core.files.storage import default_storage

    with default_storage.open(report.attachment, "rb") as stored, Image.open(stored) as clean:
        assert clean.format == "JPEG"
        assert not clean.getexif()


def test_a_bad_report_gets_its_reason_on_the_page(world: World) -> None:
    client = login(Client(), world.users["asn"])
    response = client.post("/kinerja/laporan/baru/", _form(end_time="07:00"))
    assert response.status_code == 400
    assert "harus setelah jam mulai" in response.content.decode()


def test_the_supervisor_approves_from_the_queue_and_the_month_changes(world: World) -> None:
    report = services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=report_input(), source="web"
    ).report
    client = login(Client(), world.users["atasan"])
    assert world.teacher.name in client.get("/kinerja/tinjauan/").content.decode()
    response = client.post("/kinerja/tinjauan/", {"item": report.pk, "decision": "approve"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "approved"
    assert MonthlyEvaluation.objects.get(employee=world.teacher).approved_minutes == 120


@pytest.mark.parametrize("role", ["operator_opd", "kepala_opd", "admin_bkpsdm", "operator_other"])
def test_others_neither_see_nor_decide_in_the_queue(world: World, role: str) -> None:
    report = services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=report_input(), source="web"
    ).report
    client = login(Client(), world.users[role])
    assert world.teacher.name not in client.get("/kinerja/tinjauan/").content.decode()
    assert (
        client.post("/kinerja/tinjauan/", {"item": report.pk, "decision": "approve"}).status_code
        == 404
    )
    report.refresh_from_db()
    assert report.status == "pending"


def test_reject_without_a_reason_is_told_and_nothing_changes(world: World) -> None:
    report = services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=report_input(), source="web"
    ).report
    client = login(Client(), world.users["atasan"])
    response = client.post(
        "/kinerja/tinjauan/", {"item": report.pk, "decision": "reject"}, follow=True
    )
    assert "Alasan wajib diisi untuk menolak laporan." in response.content.decode()
    report.refresh_from_db()
    assert report.status == "pending"


def test_bulk_approve_a_day(world: World) -> None:
    for _ in range(3):
        services.report_create(
            actor=world.users["asn"],
            employee=world.teacher,
            data=report_input(minutes=60),
            source="web",
        )
    client = login(Client(), world.users["atasan"])
    response = client.post("/kinerja/tinjauan/", {"bulk": "1", "day": TODAY.isoformat()})
    assert response.status_code == 302
    assert set(DailyReport.objects.values_list("status", flat=True)) == {"approved"}


def test_the_team_view_is_scoped_and_exports_xlsx(world: World) -> None:
    for employee in (world.teacher, world.nurse):
        services.month_evaluation_store(employee=employee, year=2026, month=11)
    dinkes = login(Client(), world.users["operator_other"]).get("/kinerja/tim/?bulan=2026-11")
    assert world.nurse.name in dinkes.content.decode()
    assert world.teacher.name not in dinkes.content.decode()
    xlsx = export_download(
        login(Client(), world.users["operator_opd"]), "kinerja-tim", {"bulan": "2026-11"}
    )
    content = file_bytes(xlsx)
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    nips = {row[0] for row in rows[2:]}
    assert nips == {world.teacher.nip}


def test_the_atasan_rates_a_direct_subordinate_on_the_team_page(world: World) -> None:
    services.month_evaluation_store(employee=world.teacher, year=2026, month=11)
    client = login(Client(), world.users["atasan"])
    client.post(
        "/kinerja/tim/",
        {
            "employee": world.teacher.pk,
            "bulan": "2026-11",
            "hasil_kerja": "di_atas",
            "perilaku": "di_atas",
        },
    )
    assert MonthlyEvaluation.objects.get(employee=world.teacher).predicate == "sangat_baik"
    # The kadis is higher up, not the direct supervisor: refused.
    kadis = login(Client(), world.users["kepala_opd"])
    response = kadis.post(
        "/kinerja/tim/",
        {
            "employee": world.teacher.pk,
            "bulan": "2026-11",
            "hasil_kerja": "di_bawah",
            "perilaku": "di_bawah",
        },
    )
    assert response.status_code == 403
    assert MonthlyEvaluation.objects.get(employee=world.teacher).predicate == "sangat_baik"


def test_the_skp_page_starts_adds_and_submits(world: World) -> None:
    client = login(Client(), world.users["asn"])
    client.post("/kinerja/skp/", {"tahun": "2026", "action": "create"})
    client.post(
        "/kinerja/skp/",
        {"tahun": "2026", "action": "add", "text": "Pembelajaran kelas 4", "indicator": "RPP",
         "target": "36", "unit": "dokumen"},
    )  # fmt: skip
    client.post("/kinerja/skp/", {"tahun": "2026", "action": "submit"})
    atasan = login(Client(), world.users["atasan"])
    assert "Pembelajaran kelas 4" in atasan.get("/kinerja/tinjauan/").content.decode()
    from tepat.kinerja.models import Skp

    skp = Skp.objects.get()
    atasan.post("/kinerja/skp/keputusan/", {"item": skp.pk, "decision": "agree"})
    skp.refresh_from_db()
    assert skp.status == "agreed"


# --- the phone's API ---------------------------------------------------------------------------


@pytest.fixture
def phone(world: World) -> Phone:
    phone = Phone()
    assert phone.login(world.teacher.nip).status_code == 200
    return phone


def _post(phone: Phone, path: str, body: Any) -> Any:
    import json

    return phone.client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {phone.token}",
    )


def _item(**extra: Any) -> dict[str, Any]:
    item = {"id": str(uuid4()), "day": TODAY.isoformat(), "minutes": 90, "activity": "Rapat KKG"}
    item.update(extra)
    return item


def test_the_phone_files_once_even_when_it_resends(world: World, phone: Phone) -> None:
    item = _item()
    first = _post(phone, "/api/v1/kinerja/reports", item)
    again = _post(phone, "/api/v1/kinerja/reports", item)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["report_id"] == again.json()["report_id"]
    assert DailyReport.objects.get().source == "app"
    changed = _post(phone, "/api/v1/kinerja/reports", {**item, "activity": "Lain"})
    assert changed.status_code == 409


def test_an_offline_batch_keeps_the_good_items_and_explains_the_bad(
    world: World, phone: Phone
) -> None:
    good = _item()
    body = {
        "items": [
            good,
            _item(minutes=2000),
            _item(day="2026-11-30"),
            _item(attachment=base64.b64encode(b"<html></html>").decode()),
            _item(attachment=base64.b64encode(_png()).decode()),
            "not an object",
            good,
        ]
    }
    response = _post(phone, "/api/v1/kinerja/reports/batch", body)
    assert response.status_code == 200
    statuses = [r["http_status"] for r in response.json()["results"]]
    assert statuses == [201, 422, 422, 422, 201, 422, 200]
    assert "belum tiba" in response.json()["results"][2]["body"]["detail"]
    assert DailyReport.objects.count() == 2


def test_my_month_from_the_api(world: World, phone: Phone) -> None:
    _post(phone, "/api/v1/kinerja/reports", _item())
    response = phone.client.get(
        "/api/v1/kinerja/month?year=2026&month=11", HTTP_AUTHORIZATION=f"Bearer {phone.token}"
    )
    body = response.json()
    assert (body["pending_minutes"], body["approved_minutes"], body["target_minutes"]) == (
        90,
        0,
        "6750.00",
    )
    assert body["policy"] == "kinerja_default v1"
    listed = phone.client.get(
        "/api/v1/kinerja/reports?year=2026&month=11", HTTP_AUTHORIZATION=f"Bearer {phone.token}"
    ).json()
    assert [r["activity"] for r in listed["items"]] == ["Rapat KKG"]
