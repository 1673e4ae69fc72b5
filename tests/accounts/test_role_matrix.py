"""Every page and API endpoint, walked with every role: who gets in, who is refused, and
that an OPD operator never reaches another OPD's people, even by guessing an id.

``test_every_url_is_in_the_matrix`` fails when a new URL is added without a row here."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.kinerja.reports import report_of
from tests.world import World, login


def _alert_path(employee: Any) -> str:
    """A discipline alert about ``employee``, made on demand (the world holds none)."""
    from django.utils import timezone

    from tepat.monitor.models import DisciplineAlert

    alert, _ = DisciplineAlert.objects.get_or_create(
        employee=employee, year=2026, threshold_code="TK_KUMULATIF_3", occurrence=1,
        defaults={
            "crossed_on": timezone.localdate(), "basis": "cumulative", "min_days": 3,
            "level": "ringan", "sanction": "teguran lisan", "article": "PP 94/2021 Pasal 9",
            "message": "-", "policy": "pp94_2021 versi 1", "raised_at": timezone.now(),
        },
    )  # fmt: skip
    return f"/pantau/peringatan/{alert.pk}/"


def _tpp_result(world: World) -> Any:
    """An accepted November run with one result, the teacher's (booked to Dinas Pendidikan)."""
    from tepat.tpp.models import TppPolicyVersion, TppResult, TppRun

    run, _ = TppRun.objects.get_or_create(
        year=2026, month=11, status="accepted",
        defaults={"policy": TppPolicyVersion.objects.get(name="kaur_style", version="1"),
                  "rules_version": "tpp-1"},
    )  # fmt: skip
    result, _ = TppResult.objects.get_or_create(
        run=run, employee=world.teacher,
        defaults={"opd": world.dindik, "unit": world.school, "kelas_jabatan": 8, "golongan": "IX",
                  "net": 4549198, "policy_name": "kaur_style", "policy_version": "1",
                  "rules_version": "tpp-1", "explanation": ["TPP bersih: Rp 4.549.198"]},
    )  # fmt: skip
    return result


def _tpp_submission(world: World) -> int:
    """Dinas Pendidikan's November payment request over that run, still being prepared."""
    from tepat.tpp.models import TppSubmission

    run = _tpp_result(world).run
    submission, _ = TppSubmission.objects.get_or_create(
        opd=world.dindik, year=2026, month=11, defaults={"run": run}
    )
    return submission.pk


def _export_done(world: World) -> int:
    """The Dindik operator's attendance recap, built and kept (made on demand)."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from tepat.exports.models import ExportRequest

    operator = world.users["operator_opd"]
    found = ExportRequest.objects.filter(requester=operator).first()
    if found:
        return found.pk
    now = timezone.now()
    export = ExportRequest.objects.create(
        requester=operator, kind="rekap-kehadiran", params={"bulan": "2026-11", "opd": None},
        scope_role=operator.role, scope_opd=world.dindik, status="done", created_at=now,
        finished_at=now, expires_at=now + timedelta(hours=1), filename="rekap.xlsx", size=2,
        file_path=default_storage.save("exports/test/rekap.xlsx", ContentFile(b"PK")),
    )  # fmt: skip
    return export.pk


def _sanction_path(employee: Any) -> str:
    """A recorded sanction about ``employee``'s correction page, made on demand."""
    from datetime import date

    from django.utils import timezone

    from tepat.accounts.models import User
    from tepat.monitor.models import Sanction

    sanction, _ = Sanction.objects.get_or_create(
        employee=employee, decree_number="800/1/2026",
        defaults={
            "kind": "TEGURAN_LISAN", "kind_label": "Teguran lisan", "level": "ringan",
            "article": "PP 94/2021 Pasal 8", "decided_on": date(2026, 11, 2),
            "effective_from": date(2026, 11, 2), "policy": "pp94_2021 versi 1",
            "author": User.objects.get(username="bkpsdm"), "recorded_at": timezone.now(),
        },
    )  # fmt: skip
    return f"/pantau/hukuman/{sanction.pk}/koreksi/"


ROLES = [
    "anon", "asn", "atasan", "operator_opd", "kepala_opd", "admin_bkpsdm", "auditor",
    "superadmin", "operator_other",
]  # fmt: skip

ALLOW, DENY, LOGIN = "allow", "deny", "login"


def _request_for(employee: Any, user: Any) -> Any:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from tepat.presence.models import AbsenceRequest

    found = AbsenceRequest.objects.filter(employee=employee).first()
    if found:
        return found
    path = default_storage.save("evidence/test/surat.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    today = timezone.localdate()
    return AbsenceRequest.objects.create(
        employee=employee, type="dinas_luar", first_day=today, last_day=today, days=1,
        reason="Rapat di provinsi", evidence=path, evidence_type="application/pdf",
        levels_required=1, submitted_by=user, submitted_at=timezone.now(), expires_on=today,
        policy="test",
    )  # fmt: skip


def teacher_request(w: World) -> Any:
    return _request_for(w.teacher, w.users["asn"])


def nurse_request(w: World) -> Any:
    return _request_for(
        w.nurse, w.users["admin_bkpsdm"]
    )  # LOGIN: anonymous is sent to the login page


def teacher_exception(w: World) -> Any:
    """A day off planned for the Dindik teacher, made on demand (the world holds none)."""
    from django.utils import timezone

    from tepat.presence.models import ScheduleException

    found, _ = ScheduleException.objects.get_or_create(
        employee=w.teacher, day=timezone.localdate(),
        defaults={"reason": "Tukar hari", "created_by": w.users["operator_opd"],
                  "created_at": timezone.now()},
    )  # fmt: skip
    return found


def _expect(allowed: set[str], *, anon: str = LOGIN) -> dict[str, str]:
    return {
        role: anon if role == "anon" else (ALLOW if role in allowed else DENY) for role in ROLES
    }


ALL = set(ROLES) - {"anon"}
STAFF = {"operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin", "operator_other"}
REGENCY = {"admin_bkpsdm", "auditor", "superadmin"}
DINDIK_STAFF = {"operator_opd", "kepala_opd"} | REGENCY
SITE_WRITERS_DINDIK = {"operator_opd", "admin_bkpsdm", "superadmin"}
EMPLOYEES = {"asn", "atasan", "kepala_opd"}  # accounts linked to an employee record

MACHINE_MANAGERS_DINDIK = {"operator_opd", "admin_bkpsdm", "superadmin"}


def _machine(world: World, serial: str = "MATRIX0001", *, quarantined: bool = False) -> int:
    """The school's attendance machine (or a quarantined serial with no unit yet)."""
    from tepat.presence.models import Machine

    unit = None if quarantined else world.school
    status = "quarantined" if quarantined else "active"
    machine, _ = Machine.objects.get_or_create(
        serial=serial, defaults={"unit": unit, "status": status}
    )
    return machine.pk


# (url name, how to build the path from the world, method, expected per role)
Case = tuple[str, Callable[[World], str], str, dict[str, str]]
CASES: list[Case] = [
    ("home", lambda w: "/", "get", _expect(ALL)),
    ("healthz", lambda w: "/healthz", "get", _expect(ALL, anon=ALLOW)),
    ("security_txt", lambda w: "/.well-known/security.txt", "get", _expect(ALL, anon=ALLOW)),
    ("accounts:login", lambda w: "/akun/masuk/", "get", _expect(ALL, anon=ALLOW)),
    # Forgot password: open to anyone, answering the same whoever asks.
    ("accounts:password_reset", lambda w: "/akun/lupa-sandi/", "get", _expect(ALL, anon=ALLOW)),
    (
        "accounts:password_reset_done",
        lambda w: "/akun/lupa-sandi/terkirim/",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    (
        "accounts:password_reset_confirm",
        lambda w: "/akun/atur-sandi/MQ/bukan-token/",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    (
        "accounts:password_reset_complete",
        lambda w: "/akun/atur-sandi/selesai/",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    # The second factor is for staff roles; an ASN account has none (404).
    ("accounts:mfa_enrol", lambda w: "/akun/mfa/daftar/", "get", _expect(STAFF)),
    ("accounts:mfa_verify", lambda w: "/akun/mfa/verifikasi/", "get", _expect(STAFF)),
    (
        "accounts:mfa_recovery_codes",
        lambda w: "/akun/mfa/kode-pemulihan/",
        "get",
        _expect(STAFF),
    ),
    ("accounts:mfa_keys", lambda w: "/akun/mfa/kunci-keamanan/", "get", _expect(STAFF)),
    # Security keys (WebAuthn): a ceremony starts only for a staff session, never before the
    # password; the completing steps need a started ceremony (tests/accounts/test_webauthn.py).
    (
        "otp_webauthn:credential-registration-begin",
        lambda w: "/akun/mfa/webauthn/registration/begin/",
        "post",
        _expect(STAFF, anon=DENY),
    ),
    (
        "otp_webauthn:credential-authentication-begin",
        lambda w: "/akun/mfa/webauthn/authentication/begin/",
        "post",
        _expect(STAFF, anon=DENY),
    ),
    (
        "otp_webauthn:js-i18n-catalog",
        lambda w: "/akun/mfa/webauthn/jsi18n/",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    # The media origin's downloads: only on TEPAT_MEDIA_ORIGIN's host, by link (off here).
    ("media_file", lambda w: "/berkas/bm90LWEtbGluaw/", "get", _expect(set(), anon=DENY)),
    ("org:employee_list", lambda w: "/org/pegawai/", "get", _expect(ALL)),
    # The teacher is seen by herself, her principal, the Dinas Pendidikan and BKPSDM.
    (
        "org:employee_detail",
        lambda w: f"/org/pegawai/{w.teacher.pk}/",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    # The nurse is in Dinas Kesehatan: nobody from Dinas Pendidikan sees her.
    (
        "org:employee_detail",
        lambda w: f"/org/pegawai/{w.nurse.pk}/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    ("org:site_list", lambda w: "/org/lokasi/", "get", _expect(STAFF)),
    (
        "org:site_detail",
        lambda w: f"/org/lokasi/{w.school_site.pk}/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "org:site_detail",
        lambda w: f"/org/lokasi/{w.puskesmas_site.pk}/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    (
        "org:site_detail",
        lambda w: f"/org/lokasi/{w.school_site.pk}/",
        "post",
        _expect(SITE_WRITERS_DINDIK),
    ),
    ("admin:index", lambda w: "/admin/", "get", _expect(REGENCY, anon=DENY)),
    (
        "admin:org_import",
        lambda w: "/admin/org/employee/impor/",
        "get",
        _expect({"admin_bkpsdm", "superadmin"}, anon=DENY),
    ),
    (
        "admin:org_employee_changelist",
        lambda w: "/admin/org/employee/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    (
        "admin:org_employee_change",
        lambda w: f"/admin/org/employee/{w.nurse.pk}/change/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    (
        "admin:audit_auditentry_changelist",
        lambda w: "/admin/audit/auditentry/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    ("api:me", lambda w: "/api/v1/accounts/me", "get", _expect(ALL, anon=DENY)),
    ("api:opd_list", lambda w: "/api/v1/org/opds", "get", _expect(ALL, anon=DENY)),
    ("api:employee_list", lambda w: "/api/v1/org/employees", "get", _expect(ALL, anon=DENY)),
    (
        "api:employee_detail",
        lambda w: f"/api/v1/org/employees/{w.teacher.pk}",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF, anon=DENY),
    ),
    (
        "api:employee_detail",
        lambda w: f"/api/v1/org/employees/{w.nurse.pk}",
        "get",
        _expect(REGENCY | {"operator_other"}, anon=DENY),
    ),
    ("api:site_list", lambda w: "/api/v1/org/sites", "get", _expect(ALL, anon=DENY)),
    # Own attendance: only accounts that are employees have one.
    ("api:today", lambda w: "/api/v1/presence/today", "get", _expect(EMPLOYEES, anon=DENY)),
    (
        "api:month",
        lambda w: "/api/v1/presence/month?year=2026&month=11",
        "get",
        _expect(EMPLOYEES, anon=DENY),
    ),
    # Check-ins come only from a bound phone's token, never from a browser session.
    (
        "api:checkin_create",
        lambda w: "/api/v1/presence/checkins",
        "post",
        _expect(set(), anon=DENY),
    ),
    (
        "api:checkin_batch",
        lambda w: "/api/v1/presence/checkins/batch",
        "post",
        _expect(set(), anon=DENY),
    ),
    # So does the phone's heartbeat (tests/monitor/test_heartbeat.py walks the phone roles).
    (
        "api:heartbeat",
        lambda w: "/api/v1/phone/heartbeat",
        "post",
        _expect(set(), anon=DENY),
    ),
    # Everyone may open the review queue; it lists only whom they may decide on
    # (tests/presence/test_review.py walks the decisions with every role).
    ("presence_office:review_list", lambda w: "/presensi/tinjauan/", "get", _expect(ALL)),
    # Scoped like the employee list: each sees the rows of whom they may see.
    ("presence_office:recap", lambda w: "/presensi/rekap/", "get", _expect(ALL)),
    (
        "presence_office:device_list",
        lambda w: "/presensi/perangkat/",
        "get",
        _expect({"operator_opd", "operator_other", "admin_bkpsdm", "superadmin"}),
    ),
    # Everyone with an employee, and operators and BKPSDM on someone's behalf, may file; the
    # auditor only reads.
    ("presence_office:absence_list", lambda w: "/presensi/ajuan/", "get", _expect(ALL)),
    (
        "presence_office:absence_new",
        lambda w: "/presensi/ajuan/baru/",
        "get",
        _expect(ALL - {"auditor"}),
    ),
    (
        "presence_office:absence_queue",
        lambda w: "/presensi/ajuan/persetujuan/",
        "get",
        _expect(ALL),
    ),
    (
        "presence_office:absence_detail",
        lambda w: f"/presensi/ajuan/{teacher_request(w).pk}/",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    (
        "presence_office:absence_evidence",
        lambda w: f"/presensi/ajuan/{teacher_request(w).pk}/bukti/",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    (
        "presence_office:absence_detail",
        lambda w: f"/presensi/ajuan/{nurse_request(w).pk}/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    # Schedule exceptions: the OPD operator for their staff and BKPSDM plan; the auditor reads.
    (
        "presence_office:schedule_exception_list",
        lambda w: "/presensi/jadwal-khusus/",
        "get",
        _expect({"operator_opd", "operator_other", "admin_bkpsdm", "superadmin", "auditor"}),
    ),
    (
        "presence_office:schedule_exception_remove",
        lambda w: f"/presensi/jadwal-khusus/{teacher_exception(w).pk}/hapus/",
        "post",
        _expect({"operator_opd", "admin_bkpsdm", "superadmin"}),
    ),
    # The phone app's shell holds no data: public.
    ("presence:app", lambda w: "/app/", "get", _expect(ALL, anon=ALLOW)),
    ("presence:service_worker", lambda w: "/app/sw.js", "get", _expect(ALL, anon=ALLOW)),
    ("presence:manifest", lambda w: "/app/manifest.webmanifest", "get", _expect(ALL, anon=ALLOW)),
    # Today's presence: BKPSDM for the regency, the Kepala OPD and operator for their OPD.
    ("monitor:dashboard", lambda w: "/pantau/", "get", _expect(STAFF)),
    ("monitor:dashboard_data", lambda w: "/pantau/data/", "get", _expect(STAFF)),
    (
        "monitor:dashboard_data",
        lambda w: f"/pantau/data/?opd={w.dindik.pk}",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "monitor:opd_detail",
        lambda w: f"/pantau/opd/{w.dindik.pk}/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "monitor:opd_detail",
        lambda w: f"/pantau/opd/{w.dinkes.pk}/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    # Discipline counts: scoped like the employee list (an ASN sees themself, an atasan the team).
    ("monitor:discipline_list", lambda w: "/pantau/disiplin/", "get", _expect(ALL)),
    (
        "monitor:discipline_detail",
        lambda w: f"/pantau/disiplin/{w.teacher.pk}/",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    (
        "monitor:discipline_detail",
        lambda w: f"/pantau/disiplin/{w.nurse.pk}/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    ("monitor:trends", lambda w: "/pantau/tren/", "get", _expect(STAFF)),
    # What waits for a decision, per OPD: scoped like the dashboard.
    ("monitor:review_overview", lambda w: "/pantau/antrean/", "get", _expect(STAFF)),
    # The sanction decided is recorded and corrected by BKPSDM only (tests/monitor).
    (
        "monitor:sanction_new",
        lambda w: f"/pantau/disiplin/{w.teacher.pk}/hukuman/",
        "get",
        _expect({"admin_bkpsdm", "superadmin"}),
    ),
    (
        "monitor:sanction_correct",
        lambda w: _sanction_path(w.nurse),
        "get",
        _expect({"admin_bkpsdm", "superadmin"}),
    ),
    # Alerts: read by whoever may see the employee (acting is tested in tests/monitor).
    ("monitor:alert_list", lambda w: "/pantau/peringatan/", "get", _expect(ALL)),
    (
        "monitor:alert_detail",
        lambda w: _alert_path(w.teacher),
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    (
        "monitor:alert_detail",
        lambda w: _alert_path(w.nurse),
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    ("monitor:report", lambda w: "/pantau/laporan/", "get", _expect(STAFF)),
    # Everyone has their own inbox.
    ("monitor:notification_list", lambda w: "/pantau/notifikasi/", "get", _expect(ALL)),
    (
        "admin:monitor_disciplinealert_changelist",
        lambda w: "/admin/monitor/disciplinealert/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    (
        "api:site_detail",
        lambda w: f"/api/v1/org/sites/{w.school_site.pk}",
        "get",
        _expect(DINDIK_STAFF, anon=DENY),
    ),
    # e-Kinerja: one's own reports, month and SKP only for accounts that are employees.
    ("kinerja:my_month", lambda w: "/kinerja/", "get", _expect(EMPLOYEES)),
    ("kinerja:report_new", lambda w: "/kinerja/laporan/baru/", "get", _expect(EMPLOYEES)),
    ("kinerja:skp", lambda w: "/kinerja/skp/", "get", _expect(EMPLOYEES)),
    # A report's own page is its author's alone; others get 404 (or 403 without an employee).
    (
        "kinerja:report_edit",
        lambda w: f"/kinerja/laporan/{report_of(w).pk}/",
        "get",
        _expect({"asn"}),
    ),
    # The attachment follows who may see the report: the teacher, her principal, Dinas
    # Pendidikan and BKPSDM; the nurse's only Dinas Kesehatan and BKPSDM.
    (
        "kinerja:attachment",
        lambda w: f"/kinerja/laporan/{report_of(w).pk}/lampiran/",
        "get",
        _expect({"asn", "atasan"} | DINDIK_STAFF),
    ),
    (
        "kinerja:attachment",
        lambda w: f"/kinerja/laporan/{report_of(w, 'nurse').pk}/lampiran/",
        "get",
        _expect(REGENCY | {"operator_other"}),
    ),
    # Everyone may open the queue and the team view; each lists only whom they may decide on
    # or see (tests/kinerja walks the decisions and the lists with every role).
    ("kinerja:review_queue", lambda w: "/kinerja/tinjauan/", "get", _expect(ALL)),
    ("kinerja:team_month", lambda w: "/kinerja/tim/", "get", _expect(ALL)),
    # An empty decision is refused back to the queue: nothing to decide, for anyone.
    ("kinerja:skp_decide", lambda w: "/kinerja/skp/keputusan/", "post", _expect(ALL)),
    (
        "api:kinerja_report_list",
        lambda w: "/api/v1/kinerja/reports?year=2026&month=11",
        "get",
        _expect(EMPLOYEES, anon=DENY),
    ),
    (
        "api:kinerja_month",
        lambda w: "/api/v1/kinerja/month?year=2026&month=11",
        "get",
        _expect(EMPLOYEES, anon=DENY),
    ),
    (
        "api:kinerja_results",
        lambda w: "/api/v1/kinerja/results",
        "get",
        _expect(EMPLOYEES, anon=DENY),
    ),
    # Reports reach the API only from a bound phone's token, never from a browser session.
    (
        "api:kinerja_report_create",
        lambda w: "/api/v1/kinerja/reports",
        "post",
        _expect(set(), anon=DENY),
    ),
    (
        "api:kinerja_report_batch",
        lambda w: "/api/v1/kinerja/reports/batch",
        "post",
        _expect(set(), anon=DENY),
    ),
    (
        "admin:kinerja_dailyreport_changelist",
        lambda w: "/admin/kinerja/dailyreport/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    (
        "admin:kinerja_monthlyevaluation_changelist",
        lambda w: "/admin/kinerja/monthlyevaluation/",
        "get",
        _expect(REGENCY, anon=DENY),
    ),
    # e-TPP: runs for BKPSDM and OPD staff (each OPD sees only its own results), one's own
    # months for every employee.
    ("tpp:run_list", lambda w: "/tpp/", "get", _expect(STAFF)),
    ("tpp:run_start", lambda w: "/tpp/mulai/", "post", _expect({"admin_bkpsdm", "superadmin"})),
    ("tpp:run_detail", lambda w: f"/tpp/run/{_tpp_result(w).run_id}/", "get", _expect(STAFF)),
    (
        "tpp:run_accept",
        lambda w: f"/tpp/run/{_tpp_result(w).run_id}/terima/",
        "post",
        _expect({"admin_bkpsdm", "superadmin"}),
    ),
    (
        "tpp:run_opd",
        lambda w: f"/tpp/run/{_tpp_result(w).run_id}/opd/{w.dindik.pk}/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "tpp:result_detail",
        lambda w: f"/tpp/hasil/{_tpp_result(w).pk}/",
        "get",
        _expect({"asn"} | DINDIK_STAFF),
    ),
    ("tpp:my_tpp", lambda w: "/tpp/saya/", "get", _expect(EMPLOYEES)),
    # Payment requests: each OPD's own, regency-wide roles all; the service decides each step
    # by role and OPD (a step out of order is a message, not a refusal).
    ("tpp:submission_list", lambda w: "/tpp/pengajuan/", "get", _expect(STAFF)),
    (
        "tpp:submission_open",
        lambda w: "/tpp/pengajuan/buka/",
        "post",
        _expect({"operator_opd", "superadmin", "operator_other"}),
    ),
    (
        "tpp:submission_detail",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "tpp:submission_step",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/langkah/siap/",
        "post",
        _expect({"operator_opd", "superadmin"}),
    ),
    (
        "tpp:submission_step",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/langkah/setujui/",
        "post",
        _expect({"kepala_opd", "superadmin"}),
    ),
    (
        "tpp:submission_step",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/langkah/lainnya/",
        "post",
        _expect(set()),
    ),
    (
        "tpp:submission_download",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/unduh/xlsx/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "tpp:submission_download",
        lambda w: f"/tpp/pengajuan/{_tpp_submission(w)}/unduh/csv/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    # Attendance machines: the registry and flags for staff, each machine scoped to its OPD.
    ("presence_office:machine_list", lambda w: "/presensi/mesin/", "get", _expect(STAFF)),
    ("presence_office:machine_flags", lambda w: "/presensi/mesin/tanda/", "get", _expect(STAFF)),
    (
        "presence_office:machine_detail",
        lambda w: f"/presensi/mesin/{_machine(w)}/",
        "get",
        _expect(DINDIK_STAFF),
    ),
    (
        "presence_office:machine_detail",
        lambda w: f"/presensi/mesin/{_machine(w)}/",
        "post",
        _expect(MACHINE_MANAGERS_DINDIK),
    ),
    # A quarantined serial has no OPD yet: only the regency sees it.
    (
        "presence_office:machine_detail",
        lambda w: f"/presensi/mesin/{_machine(w, 'QUAR0001', quarantined=True)}/",
        "get",
        _expect(REGENCY),
    ),
    (
        "presence_office:machine_import",
        lambda w: f"/presensi/mesin/{_machine(w)}/impor/",
        "get",
        _expect(MACHINE_MANAGERS_DINDIK),
    ),
    # Machines have no login: every caller gets the same harmless plain-text answer, and
    # an unknown serial only lands in quarantine (tests/machines).
    (
        "iclock_cdata",
        lambda w: "/iclock/cdata?SN=MATRIX0009&options=all",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    (
        "iclock_getrequest",
        lambda w: "/iclock/getrequest.aspx?SN=MATRIX0009",
        "get",
        _expect(ALL, anon=ALLOW),
    ),
    (
        "iclock_devicecmd",
        lambda w: "/iclock/devicecmd?SN=MATRIX0009",
        "post",
        _expect(ALL, anon=ALLOW),
    ),
    ("iclock_ping", lambda w: "/iclock/ping?SN=MATRIX0009", "get", _expect(ALL, anon=ALLOW)),
    # Requested exports: anyone asks for the exports of what they see (the discipline report:
    # those who watch presence); a file is only for the one who asked (tests/exports).
    ("exports:list", lambda w: "/unduhan/", "get", _expect(ALL)),
    ("exports:new", lambda w: "/unduhan/minta/rekap-kehadiran/", "post", _expect(ALL)),
    ("exports:new", lambda w: "/unduhan/minta/rekap-disiplin-pdf/", "post", _expect(STAFF)),
    (
        "exports:download",
        lambda w: f"/unduhan/{_export_done(w)}/berkas/",
        "get",
        _expect({"operator_opd"}),
    ),
    (
        "exports:retry",
        lambda w: f"/unduhan/{_export_done(w)}/ulang/",
        "post",
        _expect({"operator_opd"}),
    ),
    # The webhook authenticates by the secret in its URL only; a wrong one is a 404 for all.
    (
        "fingerspot_webhook",
        lambda w: "/mesin/fingerspot/not-the-secret",
        "post",
        _expect(set(), anon=DENY),
    ),
]

# Framework URLs that carry no Tepat data of their own.
NOT_IN_MATRIX = {
    "accounts:logout", "set_language", "api:api-root", "api:openapi-json", "api:openapi-view",
    "api:token_create",  # public by nature; tests/presence covers it
    "presence_office:selfie",  # needs a selfie; every role in tests/presence/test_selfie.py
    # need a ceremony begun in the same session; tests/accounts/test_webauthn.py
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-complete",
}  # fmt: skip


def _client_for(role: str, world: World) -> Client:
    client = Client()
    if role != "anon":
        login(client, world.users[role])
    return client


def _request(client: Client, method: str, path: str, world: World) -> Any:
    if method == "post" and "/api/" in path:
        return client.post(path, "{}", content_type="application/json")
    if method == "post":
        data = {
            "latitude": "-2.423400",
            "longitude": "101.166800",
            "method": "map",
            "reason": "Koordinat diperbaiki dari peta",
        }
        return client.post(path, data)
    return client.get(path)


def _outcome(response: Any) -> str:
    code = response.status_code
    if code == 302:
        location = response["Location"]
        if "/akun/masuk/" in location:
            return LOGIN
        return DENY if "/admin/login/" in location else ALLOW
    if code == 200:
        return ALLOW
    if code in {401, 403, 404}:
        return DENY
    raise AssertionError(f"unexpected status {code}: {response.content[:300]!r}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "path", "method", "expected"), CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_role_reaches_only_what_it_may(
    world: World,
    role: str,
    name: str,
    path: Callable[[World], str],
    method: str,
    expected: dict[str, str],
) -> None:
    response = _request(_client_for(role, world), method, path(world), world)
    assert _outcome(response) == expected[role], f"{role} {method.upper()} {path(world)}"


MFA_STAFF = sorted(STAFF)


@pytest.mark.parametrize("role", MFA_STAFF)
def test_a_staff_session_without_the_second_factor_reaches_nothing(world: World, role: str) -> None:
    """Password right, app code not yet entered: every page that needs a login sends the
    person to the code, the admin too, and the JSON API answers 403."""
    from tests.world import mfa_device

    user = world.users[role]
    mfa_device(user)
    client = login(Client(), user, verified=False)
    checked = 0
    for name, path_of, method, expected in CASES:
        if expected["anon"] != LOGIN or name.startswith("accounts:mfa"):
            continue
        path = path_of(world)
        response = _request(client, method, path, world)
        if "/api/" in path:
            assert response.status_code == 403, f"{role} {method.upper()} {path}"
        else:
            assert response.status_code == 302, f"{role} {method.upper()} {path}"
            assert response["Location"].startswith("/akun/mfa/verifikasi/?next=/"), path
        checked += 1
    assert checked > 40


def test_a_staff_account_without_an_app_is_sent_to_set_one_up(world: World) -> None:
    client = login(Client(), world.users["operator_opd"], verified=False)
    response = client.get("/org/pegawai/?page=2")
    assert response["Location"] == "/akun/mfa/daftar/?next=/org/pegawai/%3Fpage%3D2"
    assert client.get("/admin/")["Location"].startswith("/akun/mfa/daftar/")


def _names(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            if p.namespace == "admin":
                continue  # the admin is covered by sample model pages above
            names |= _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    covered = {case[0] for case in CASES if not case[0].startswith("admin:")}
    assert _names(get_resolver().url_patterns) - NOT_IN_MATRIX == covered


def test_operator_list_holds_only_their_opd(world: World) -> None:
    client = login(Client(), world.users["operator_opd"])
    nips = {row["nip"] for row in client.get("/api/v1/org/employees?limit=100").json()["items"]}
    assert nips == {world.kadis.nip, world.principal.nip, world.teacher.nip, world.teacher2.nip}
    page = client.get("/org/pegawai/").content.decode()
    assert world.teacher.name in page
    assert world.nurse.name not in page


def test_atasan_sees_the_chain_below_not_above(world: World) -> None:
    client = login(Client(), world.users["atasan"])
    nips = {row["nip"] for row in client.get("/api/v1/org/employees").json()["items"]}
    assert nips == {world.principal.nip, world.teacher.nip, world.teacher2.nip}


def test_kepala_opd_sees_indirect_subordinates(world: World) -> None:
    client = login(Client(), world.users["kepala_opd"])
    assert client.get(f"/api/v1/org/employees/{world.teacher.pk}").status_code == 200


def test_asn_sees_only_themself(world: World) -> None:
    client = login(Client(), world.users["asn"])
    nips = [row["nip"] for row in client.get("/api/v1/org/employees").json()["items"]]
    assert nips == [world.teacher.nip]
    assert client.get(f"/api/v1/org/employees/{world.teacher2.pk}").status_code == 404
