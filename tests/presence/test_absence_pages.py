"""The absence pages as a teacher, her principal and the OPD operator use them."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tepat.presence.models import AbsenceRequest
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=WIB), tick=False):
        yield


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("surat tugas.pdf", b"%PDF-1.4\n1 0 obj\nendobj\n%%EOF\n")


def form(world: World, **extra) -> dict:
    data = {
        "employee": world.teacher.pk,
        "type": "dinas_luar",
        "first_day": "2026-11-24",
        "last_day": "2026-11-25",
        "reason": "Rapat koordinasi di provinsi",
    }
    data.update(extra)
    return data


def test_a_teacher_files_dinas_luar_with_a_letter_and_sees_it_waiting(world: World) -> None:
    client = login(Client(), world.users["asn"])
    response = client.post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    filed = AbsenceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/presensi/ajuan/{filed.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Menunggu persetujuan" in page
    assert "diinput operator" not in page


def test_bad_input_answers_400_in_indonesian_and_keeps_what_was_typed(world: World) -> None:
    client = login(Client(), world.users["asn"])
    fake = SimpleUploadedFile("surat.pdf", b"<?php system($_GET['c']); ?>")
    response = client.post("/presensi/ajuan/baru/", form(world, evidence=fake))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Bukti harus berupa berkas PDF, JPEG, atau PNG." in page
    assert "Rapat koordinasi di provinsi" in page
    assert not AbsenceRequest.objects.exists()


def test_the_operator_files_on_behalf_and_the_principal_sees_it_marked(world: World) -> None:
    operator = login(Client(), world.users["operator_opd"])
    operator.post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    principal = login(Client(), world.users["atasan"])
    queue = principal.get("/presensi/ajuan/persetujuan/").content.decode()
    assert "diinput operator operator.dindik" in queue


def test_an_operator_cannot_file_for_another_opd(world: World) -> None:
    client = login(Client(), world.users["operator_other"])
    response = client.post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    assert response.status_code == 400  # the teacher is not a choice for this operator
    assert not AbsenceRequest.objects.exists()


def test_the_principal_approves_several_at_once(world: World) -> None:
    teacher = login(Client(), world.users["asn"])
    teacher.post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    teacher.post(
        "/presensi/ajuan/baru/",
        form(world, type="izin", first_day="2026-11-27", last_day="", reason="Urusan keluarga"),
    )
    ids = list(AbsenceRequest.objects.values_list("pk", flat=True))
    principal = login(Client(), world.users["atasan"])
    response = principal.post(
        "/presensi/ajuan/persetujuan/", {"ids": ids, "decision": "approve", "note": ""}
    )
    assert response.status_code == 302
    assert set(AbsenceRequest.objects.values_list("status", flat=True)) == {"approved"}


def test_the_evidence_is_a_download_only_for_those_who_may_see_it(world: World) -> None:
    login(Client(), world.users["asn"]).post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    filed = AbsenceRequest.objects.get()
    url = f"/presensi/ajuan/{filed.pk}/bukti/"
    response = login(Client(), world.users["atasan"]).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert login(Client(), world.users["operator_other"]).get(url).status_code == 404


def test_the_balance_page_shows_the_annual_leave_left(world: World) -> None:
    page = login(Client(), world.users["atasan"]).get("/presensi/ajuan/").content.decode()
    assert "Cuti tahunan 2026" in page
    assert "sisa 24 hari kerja" in page  # a PNS since 2010 who took nothing in two years


def test_a_rejection_without_a_note_is_refused_on_the_page(world: World) -> None:
    login(Client(), world.users["asn"]).post("/presensi/ajuan/baru/", form(world, evidence=pdf()))
    filed = AbsenceRequest.objects.get()
    principal = login(Client(), world.users["atasan"])
    response = principal.post(f"/presensi/ajuan/{filed.pk}/", {"decision": "reject", "note": ""})
    assert response.status_code == 400
    assert "Sebutkan alasan penolakan." in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == "pending"
    assert date(2026, 11, 26) == filed.expires_on
