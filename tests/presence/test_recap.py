"""The monthly attendance recap, on screen and as XLSX (a requested export), checked cell by
cell."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from openpyxl import load_workbook

from tepat.org.models import ScheduleGroup
from tepat.presence.attendance import attendance_day_rebuild, schedule_version_save
from tepat.presence.models import CheckinEvent
from tepat.rules.schedule import teacher_schedules
from tepat.rules.schedule_data import schedule_to_data
from tests.exports.flow import export_download, file_bytes
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def november(world: World) -> None:
    """The teacher: Mon 16 late 12 min and left on time, Tue 17 nothing, Wed 18 on time."""
    guru = ScheduleGroup.objects.get(code="guru")
    for s in teacher_schedules():
        schedule_version_save(actor=None, group=guru, definition=schedule_to_data(s))
    punches = [
        ("in", datetime(2026, 11, 16, 7, 12, tzinfo=WIB)),
        ("out", datetime(2026, 11, 16, 14, 5, tzinfo=WIB)),
        ("in", datetime(2026, 11, 18, 6, 50, tzinfo=WIB)),
        ("out", datetime(2026, 11, 18, 14, 1, tzinfo=WIB)),
    ]
    for kind, at in punches:
        CheckinEvent.objects.create(
            idempotency_key=f"{kind}{at:%d}", employee=world.teacher, kind=kind, taken_at=at,
            received_at=at, source="phone", status="accepted", site=world.school_site,
        )  # fmt: skip
    for d in (16, 17, 18):
        attendance_day_rebuild(world.teacher, date(2026, 11, d))


def test_operator_sees_the_teachers_month(world: World, november: None) -> None:
    page = login(Client(), world.users["operator_opd"]).get("/presensi/rekap/?bulan=2026-11")
    html = page.content.decode()
    assert page.status_code == 200
    assert world.teacher.nip in html
    assert world.nurse.nip not in html


def test_the_xlsx_holds_the_same_counts(world: World, november: None) -> None:
    world.teacher2.name = '=HYPERLINK("http://judi.example","klik")'
    world.teacher2.save()
    client = login(Client(), world.users["kepala_opd"])
    response = export_download(client, "rekap-kehadiran", {"bulan": "2026-11"})
    assert response["Content-Disposition"] == 'attachment; filename="rekap-kehadiran-2026-11.xlsx"'
    sheet = load_workbook(io.BytesIO(file_bytes(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[1]
    by_nip = {r[0]: dict(zip(header, r, strict=False)) for r in rows[2:]}
    teacher = by_nip[world.teacher.nip]
    assert (teacher["Hadir"], teacher["TL1"], teacher["TK"], teacher["Menit terlambat"]) == (
        2,
        1,
        1,
        12,
    )
    assert isinstance(rows[2][0], str)
    assert len(world.teacher.nip) == 18
    # A name that looks like a formula stays text.
    assert by_nip[world.teacher2.nip]["Nama"].startswith("'=HYPERLINK")
    assert world.nurse.nip not in by_nip


def test_an_asn_sees_only_her_own_row(world: World, november: None) -> None:
    html = (
        login(Client(), world.users["asn"]).get("/presensi/rekap/?bulan=2026-11").content.decode()
    )
    assert world.teacher.nip in html
    assert world.teacher2.nip not in html


def test_a_bad_month_falls_back_to_this_month(world: World) -> None:
    response = login(Client(), world.users["admin_bkpsdm"]).get("/presensi/rekap/?bulan=november")
    assert response.status_code == 200
