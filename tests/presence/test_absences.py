"""Absence requests as a teacher, a principal, a Kepala OPD and an OPD operator live them:
filing with evidence, two levels, Plt, expiry, forgotten punches, and the verdict that follows."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tepat.audit.models import AuditEntry
from tepat.presence.absences import (
    AbsenceInput,
    absence_request_decide,
    absence_request_submit,
    absence_request_withdraw,
    absence_requests_bulk_decide,
    absence_requests_expire,
    annual_leave_balance_for,
)
from tepat.presence.attendance import attendance_day_rebuild
from tepat.presence.models import (
    AbsenceRequest,
    AttendanceDay,
    AttendanceDayChange,
    CheckinEvent,
    PeriodLock,
)
from tests.world import World

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)  # Monday
MONDAY = date(2026, 11, 16)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def pdf(body: bytes = b"1 0 obj << /Type /Catalog >> endobj") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "surat.pdf", b"%PDF-1.4\n" + body + b"\n%%EOF\n", content_type="application/pdf"
    )


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, format="PNG")
    return SimpleUploadedFile("foto.png", out.getvalue(), content_type="image/png")


def file(world: World, who: str = "asn", employee=None, **fields) -> AbsenceRequest:
    values = {
        "type": "izin",
        "first_day": MONDAY,
        "last_day": MONDAY,
        "reason": "Mengantar anak berobat",
    }
    evidence = fields.pop("evidence", None)
    values.update(fields)
    return absence_request_submit(
        actor=world.users[who],
        employee=employee or world.teacher,
        data=AbsenceInput(**values),
        evidence=evidence,
    )


def decide(world: World, request: AbsenceRequest, who: str = "atasan", approve=True, note=""):
    return absence_request_decide(
        actor=world.users[who], request_id=request.pk, approve=approve, note=note
    )


class TestFiling:
    def test_a_teacher_files_izin_for_herself_and_it_waits_for_the_principal(
        self, world, schedules
    ):
        request = file(world)
        assert (request.status, request.days, request.levels_required) == ("pending", 1, 1)
        assert request.on_behalf is False
        assert request.expires_on == date(2026, 11, 26)
        assert AuditEntry.objects.filter(action="absence.submit", object_id=str(request.pk))

    def test_an_operator_files_on_behalf_and_it_says_so(self, world, schedules):
        request = file(world, "operator_opd")
        assert request.on_behalf is True
        assert request.submitted_by == world.users["operator_opd"]

    def test_an_operator_of_another_opd_cannot_file_for_a_dindik_teacher(self, world, schedules):
        with pytest.raises(PermissionDenied):
            file(world, "operator_other")

    def test_a_teacher_cannot_file_for_a_colleague(self, world, schedules):
        with pytest.raises(PermissionDenied):
            file(world, employee=world.teacher2)

    def test_cuti_tahunan_counts_working_days_only(self, world, schedules):
        # Friday 20 to Tuesday 24 November: three working days for a 5-day school week.
        request = file(
            world,
            employee=world.teacher2,
            who="admin_bkpsdm",
            type="cuti_tahunan",
            first_day=date(2026, 11, 20),
            last_day=date(2026, 11, 24),
        )
        assert request.days == 3

    def test_a_pppk_teacher_cannot_take_cuti_besar(self, world, schedules):
        with pytest.raises(ValidationError) as error:
            file(world, type="cuti_besar", last_day=MONDAY + timedelta(days=30), evidence=pdf())
        assert any("tidak berlaku untuk PPPK" in m for m in error.value.messages)

    def test_two_days_of_cuti_sakit_need_a_letter(self, world, schedules):
        with pytest.raises(ValidationError) as error:
            file(world, type="cuti_sakit", last_day=MONDAY + timedelta(days=1))
        assert error.value.messages == ["Cuti sakit 2 hari memerlukan bukti (surat/dokumen)"]
        request = file(
            world, type="cuti_sakit", last_day=MONDAY + timedelta(days=1), evidence=pdf()
        )
        assert request.evidence_type == "application/pdf"
        assert request.evidence.startswith(f"evidence/{world.teacher.pk}/")

    def test_an_html_page_renamed_pdf_is_refused_and_nothing_is_filed(self, world, schedules):
        fake = SimpleUploadedFile(
            "surat.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"
        )
        with pytest.raises(ValidationError) as error:
            file(world, type="dinas_luar", evidence=fake)
        assert error.value.message_dict["evidence"] == [
            "Bukti harus berupa berkas PDF, JPEG, atau PNG."
        ]
        assert not AbsenceRequest.objects.exists()

    def test_a_pdf_with_javascript_is_refused(self, world, schedules):
        with pytest.raises(ValidationError) as error:
            file(
                world,
                type="dinas_luar",
                evidence=pdf(b"<< /OpenAction << /JS (app.alert(1)) >> >>"),
            )
        assert "skrip" in error.value.message_dict["evidence"][0]

    def test_a_photo_is_re_encoded_as_jpeg(self, world, schedules):
        request = file(world, type="dinas_luar", evidence=png())
        assert request.evidence_type == "image/jpeg"
        assert request.evidence.endswith(".jpg")

    def test_overlapping_requests_are_refused(self, world, schedules):
        file(world)
        with pytest.raises(ValidationError) as error:
            file(world, type="dinas_luar", evidence=pdf())
        assert error.value.messages == [
            "Sudah ada pengajuan pada tanggal yang sama: Izin 16-11-2026"
        ]

    def test_a_reason_is_required(self, world, schedules):
        with pytest.raises(ValidationError):
            file(world, reason="  ")

    def test_two_pending_requests_cannot_spend_the_same_cuti_tahunan(self, world, schedules):
        # teacher2 is a PNS appointed in 2010 who took nothing: 24 days.
        kw = {"employee": world.teacher2, "who": "admin_bkpsdm", "type": "cuti_tahunan"}
        file(world, first_day=date(2026, 11, 2), last_day=date(2026, 11, 27), **kw)  # 20 days
        with pytest.raises(ValidationError) as error:
            file(world, first_day=date(2026, 12, 1), last_day=date(2026, 12, 7), **kw)  # 5 days
        assert error.value.messages == ["Sisa cuti tahunan 4 hari, diajukan 5 hari"]


class TestDeciding:
    def test_the_principal_approves_and_the_verdict_becomes_izin(self, world, schedules):
        request = file(world)
        decide(world, request)
        request.refresh_from_db()
        assert request.status == "approved"
        row = attendance_day_rebuild(world.teacher, MONDAY)
        assert row is not None
        assert row.day_code == "izin"
        assert any("#" + str(request.pk) in line for line in row.explanation)

    def test_without_approval_the_day_stays_tk(self, world, schedules):
        file(world)
        row = attendance_day_rebuild(world.teacher, MONDAY)
        assert row is not None
        assert row.day_code == "TK"

    def test_a_rejection_needs_a_reason(self, world, schedules):
        request = file(world)
        with pytest.raises(ValidationError):
            decide(world, request, approve=False)
        decide(world, request, approve=False, note="Tidak ada surat")
        request.refresh_from_db()
        assert request.status == "rejected"

    def test_a_colleague_or_another_opd_cannot_decide(self, world, schedules):
        request = file(world)
        for who in ("operator_opd", "operator_other", "auditor"):
            with pytest.raises(PermissionDenied):
                decide(world, request, who)

    def test_the_employee_cannot_approve_her_own_request_even_as_bkpsdm_entry(
        self, world, schedules
    ):
        request = file(world, "admin_bkpsdm")
        with pytest.raises(ValidationError):
            decide(world, request, "admin_bkpsdm")

    def test_cuti_melahirkan_needs_two_levels_by_two_people(self, world, schedules):
        request = file(
            world,
            type="cuti_melahirkan",
            first_day=date(2026, 12, 1),
            last_day=date(2027, 2, 28),
            evidence=pdf(),
        )
        assert request.levels_required == 2
        decide(world, request)  # the principal, level 1
        request.refresh_from_db()
        assert (request.status, request.level_done) == ("pending", 1)
        with pytest.raises(PermissionDenied):
            decide(world, request)  # the principal is not the second level
        decide(world, request, "kepala_opd")
        request.refresh_from_db()
        assert request.status == "approved"
        assert [d.level for d in request.decisions.all()] == [1, 2]

    def test_the_next_level_stands_in_when_the_supervisor_is_on_leave(self, world, schedules):
        today = NOW.date()
        away = file(world, "admin_bkpsdm", employee=world.principal, type="dinas_luar",
                    first_day=today, last_day=today + timedelta(2), evidence=pdf())  # fmt: skip
        decide(world, away, "superadmin")
        request = file(world)
        # The kadis, as a plain atasan, is the teacher's second level; with the principal
        # away he decides level 1 in her place.
        kadis = world.users["kepala_opd"]
        kadis.role = "asn"
        kadis.save()
        absence_request_decide(actor=kadis, request_id=request.pk, approve=True, note="Plt")
        request.refresh_from_db()
        assert request.status == "approved"

    def test_without_leave_the_second_level_cannot_decide_level_one(self, world, schedules):
        request = file(world)
        kadis = world.users["kepala_opd"]
        kadis.role = "asn"
        kadis.save()
        with pytest.raises(PermissionDenied):
            absence_request_decide(actor=kadis, request_id=request.pk, approve=True, note="")

    def test_bulk_approval_reports_what_it_could_not_do(self, world, schedules):
        mine = file(world)
        other = file(world, "admin_bkpsdm", employee=world.nurse, type="izin")
        done, problems = absence_requests_bulk_decide(
            actor=world.users["atasan"], request_ids=[mine.pk, other.pk], approve=True, note=""
        )
        assert done == 1
        assert problems == [f"#{other.pk}: Pengajuan ini tidak menunggu keputusan Anda."]

    def test_a_forgotten_check_in_becomes_a_ledger_event_by_the_approver(self, world, schedules):
        punch = datetime(2026, 11, 16, 6, 55, tzinfo=WIB)
        CheckinEvent.objects.create(
            idempotency_key="out-1", employee=world.teacher, kind="out",
            taken_at=datetime(2026, 11, 16, 14, 5, tzinfo=WIB), received_at=NOW,
            source="phone", status="accepted",
        )  # fmt: skip
        request = file(world, type="lupa_absen", checkin_kind="in", checkin_at=punch)
        decide(world, request, note="Benar, hadir upacara")
        request.refresh_from_db()
        event = request.correction_event
        assert (event.kind, event.taken_at, event.source) == ("in", punch, "correction")
        assert event.author == world.users["atasan"]
        assert event.reason == "Mengantar anak berobat"
        row = attendance_day_rebuild(world.teacher, MONDAY)
        assert row is not None
        assert row.day_code == "H"
        assert row.in_code == ""

    def test_a_pending_request_can_be_withdrawn_but_not_by_the_supervisor(self, world, schedules):
        request = file(world)
        with pytest.raises(PermissionDenied):
            absence_request_withdraw(actor=world.users["atasan"], request_id=request.pk)
        absence_request_withdraw(actor=world.users["asn"], request_id=request.pk)
        request.refresh_from_db()
        assert request.status == "withdrawn"


class TestExpiry:
    def test_requests_nobody_decided_expire_once(self, world, schedules, clock):
        request = file(world)
        assert absence_requests_expire(today=date(2026, 11, 25)) == 0
        assert absence_requests_expire(today=date(2026, 11, 26)) == 1
        assert absence_requests_expire(today=date(2026, 11, 27)) == 0
        request.refresh_from_db()
        assert request.status == "expired"
        assert request.decisions.get().decision == "expire"


class TestLockedPeriod:
    def test_an_approval_for_a_locked_month_is_kept_as_a_change_not_a_rewrite(
        self, world, schedules
    ):
        assert attendance_day_rebuild(world.teacher, MONDAY).day_code == "TK"
        PeriodLock.objects.create(month=date(2026, 11, 1), locked_by=world.users["admin_bkpsdm"],
                                  locked_at=NOW)  # fmt: skip
        decide(world, file(world))
        attendance_day_rebuild(world.teacher, MONDAY)
        assert AttendanceDay.objects.get(employee=world.teacher, day=MONDAY).day_code == "TK"
        change = AttendanceDayChange.objects.get(employee=world.teacher, day=MONDAY)
        assert (change.locked_code, change.new_code, change.settled_in) == ("TK", "izin", None)
        attendance_day_rebuild(world.teacher, MONDAY)
        assert AttendanceDayChange.objects.count() == 1


def test_the_balance_counts_approved_cuti_tahunan(world, schedules):
    request = file(world, "admin_bkpsdm", employee=world.teacher2, type="cuti_tahunan",
                   first_day=date(2026, 11, 2), last_day=date(2026, 11, 4))  # fmt: skip
    decide(world, request)
    balance = annual_leave_balance_for(world.teacher2, 2026)
    assert (balance.available, balance.taken, balance.remaining) == (24, 3, 21)


def test_the_daily_command_expires_what_nobody_decided(world, schedules, clock):
    from django.core.management import call_command

    request = file(world)
    clock.move_to(datetime(2026, 11, 26, 1, 0, tzinfo=WIB))
    out = io.StringIO()
    call_command("absence_expire", stdout=out)
    assert out.getvalue().strip() == "1 pengajuan kedaluwarsa."
    request.refresh_from_db()
    assert request.status == "expired"
