"""Daily reports, the supervisor's decisions (atasan and Plt), the SKP and the stored month."""

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tepat.accounts import access
from tepat.audit.models import AuditEntry
from tepat.kinerja import selectors, services
from tepat.kinerja.models import DailyReport, MonthlyEvaluation, ReportDecision, Skp
from tepat.kinerja.policy import kinerja_policy_on
from tepat.presence.models import AttendanceDay
from tests.kinerja.conftest import report_input
from tests.world import TODAY, World

ROLES = [
    "asn", "atasan", "operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin",
    "operator_other",
]  # fmt: skip


def file(world: World, **fields: Any) -> DailyReport:
    return services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=report_input(**fields), source="web"
    ).report


def day_code(employee: Any, day: date, code: str) -> None:
    AttendanceDay.objects.create(
        employee=employee, day=day, day_code=code, rules_version="t", computed_at=timezone.now()
    )


# --- filing ------------------------------------------------------------------------------------


def test_a_report_is_filed_pending_and_audited(world: World) -> None:
    report = file(world)
    assert (report.status, report.minutes, report.late, report.source) == (
        "pending",
        120,
        False,
        "web",
    )
    entry = AuditEntry.objects.get(action="kinerja.report_create")
    assert entry.actor == world.users["asn"]
    assert entry.after["minutes"] == 120


def test_the_same_client_id_twice_stores_one_report(world: World) -> None:
    data = report_input()
    first = services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=data, source="app"
    )
    again = services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=data, source="app"
    )
    assert (first.created, again.created) == (True, False)
    assert again.report.pk == first.report.pk
    assert DailyReport.objects.count() == 1


def test_a_used_client_id_for_another_report_is_a_conflict(world: World) -> None:
    data = report_input()
    services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=data, source="app"
    )
    changed = report_input(client_id=data.client_id, activity="Sesuatu yang lain")
    with pytest.raises(services.IdempotencyConflict):
        services.report_create(
            actor=world.users["asn"], employee=world.teacher, data=changed, source="app"
        )


def test_only_the_employee_files_their_own_reports(world: World) -> None:
    for role in ROLES:
        if role == "asn":
            continue
        with pytest.raises(PermissionDenied):
            services.report_create(
                actor=world.users[role], employee=world.teacher, data=report_input(), source="web"
            )
    assert not DailyReport.objects.exists()


def test_a_report_after_the_day_is_marked_late(world: World) -> None:
    report = file(world, day=TODAY - timedelta(days=2))
    assert report.late is True


def test_a_report_past_the_late_window_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        file(world, day=TODAY - timedelta(days=7))
    assert "sudah lewat" in caught.value.messages[0]


@pytest.mark.parametrize("code", ["TK", "cuti_tahunan", "sakit"])
def test_no_time_on_a_day_of_leave_or_absence(world: World, code: str) -> None:
    day_code(world.teacher, TODAY - timedelta(days=1), code)
    with pytest.raises(ValidationError) as caught:
        file(world, day=TODAY - timedelta(days=1))
    assert "tidak dapat mengisi waktu kerja" in caught.value.messages[0]


def test_no_more_minutes_than_the_day_has(world: World) -> None:
    file(world, minutes=1000)
    with pytest.raises(ValidationError) as caught:
        file(world, minutes=441)
    assert "lebih dari 1.440 menit sehari" in caught.value.messages[0]
    file(world, minutes=440)


def test_a_rejected_report_frees_its_time(world: World) -> None:
    report = file(world)
    services.report_decide(
        actor=world.users["atasan"], report=report, decision="reject", reason="Bukan tugas"
    )
    file(world)  # the same 08:00–10:00 again


def test_a_pending_report_can_be_changed_and_withdrawn_a_decided_one_not(world: World) -> None:
    report = file(world)
    changed = services.report_update(
        actor=world.users["asn"],
        report=report,
        data=report_input(client_id=report.client_id, start_time=time(8), end_time=time(11)),
    )
    assert changed.minutes == 180
    assert AuditEntry.objects.get(action="kinerja.report_update").before["minutes"] == 120
    services.report_decide(actor=world.users["atasan"], report=changed, decision="approve")
    with pytest.raises(ValidationError):
        services.report_update(actor=world.users["asn"], report=changed, data=report_input())
    with pytest.raises(ValidationError):
        services.report_delete(actor=world.users["asn"], report=changed)


def test_a_report_may_serve_only_a_result_of_ones_own_plan(world: World) -> None:
    other = services.skp_create(actor=world.users["atasan"], employee=world.principal, year=2026)
    result = services.skp_result_add(
        actor=world.users["atasan"],
        skp=other,
        text="Mutu pembelajaran meningkat",
        indicators=[services.IndicatorInput("Supervisi kelas", Decimal(24), "kelas")],
    )
    with pytest.raises(ValidationError):
        file(world, skp_result_id=result.pk)


# --- decisions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_direct_supervisor_decides(world: World, role: str) -> None:
    report = file(world)
    if role == "atasan":
        services.report_decide(actor=world.users[role], report=report, decision="approve")
        report.refresh_from_db()
        assert (report.status, report.decided_by, report.decided_as_plt) == (
            "approved",
            world.users[role],
            False,
        )
        return
    with pytest.raises(PermissionDenied):
        services.report_decide(actor=world.users[role], report=report, decision="approve")
    report.refresh_from_db()
    assert report.status == "pending"


def test_a_supervisor_cannot_approve_their_own_report(world: World) -> None:
    own = services.report_create(
        actor=world.users["atasan"], employee=world.principal, data=report_input(), source="web"
    ).report
    with pytest.raises(PermissionDenied):
        services.report_decide(actor=world.users["atasan"], report=own, decision="approve")
    # Nor is it in the principal's own queue; it waits for her supervisor, the kadis.
    assert own not in access.reports_decidable_by(world.users["atasan"], TODAY)
    assert own in access.reports_decidable_by(world.users["kepala_opd"], TODAY)


def test_the_next_level_stands_in_while_the_supervisor_is_on_leave(world: World) -> None:
    report = file(world)
    kadis = world.users["kepala_opd"]
    assert report not in access.reports_decidable_by(kadis, TODAY)
    with pytest.raises(PermissionDenied):
        services.report_decide(actor=kadis, report=report, decision="approve")

    day_code(world.principal, TODAY, "cuti_tahunan")
    assert report in access.reports_decidable_by(kadis, TODAY)
    services.report_decide(actor=kadis, report=report, decision="approve")
    report.refresh_from_db()
    assert report.decided_as_plt is True
    assert ReportDecision.objects.get().as_plt is True
    assert AuditEntry.objects.get(action="kinerja.report_approve").after["plt"] is True


def test_reject_needs_a_reason_and_records_it(world: World) -> None:
    report = file(world)
    with pytest.raises(ValidationError):
        services.report_decide(actor=world.users["atasan"], report=report, decision="reject")
    services.report_decide(
        actor=world.users["atasan"], report=report, decision="reject", reason="Tidak sesuai SKP"
    )
    report.refresh_from_db()
    assert (report.status, report.decision_reason) == ("rejected", "Tidak sesuai SKP")
    entry = AuditEntry.objects.get(action="kinerja.report_reject")
    assert entry.reason == "Tidak sesuai SKP"


def test_adjusting_approves_fewer_minutes_with_a_reason(world: World) -> None:
    report = file(world)
    for minutes, reason in ((120, "x"), (200, "x"), (60, "")):
        with pytest.raises(ValidationError):
            services.report_decide(
                actor=world.users["atasan"],
                report=report,
                decision="adjust",
                minutes=minutes,
                reason=reason,
            )
    services.report_decide(
        actor=world.users["atasan"],
        report=report,
        decision="adjust",
        minutes=90,
        reason="Rapat 30 menit",
    )
    report.refresh_from_db()
    assert (report.status, report.approved_minutes, report.effective_minutes) == (
        "approved",
        90,
        90,
    )
    evaluation = MonthlyEvaluation.objects.get(employee=world.teacher, year=2026, month=11)
    assert evaluation.approved_minutes == 90


def test_a_decided_report_cannot_be_decided_again(world: World) -> None:
    report = file(world)
    services.report_decide(actor=world.users["atasan"], report=report, decision="approve")
    with pytest.raises(ValidationError):
        services.report_decide(
            actor=world.users["atasan"], report=report, decision="reject", reason="x"
        )


def test_bulk_approve_for_a_day_decides_each_and_audits_each(world: World) -> None:
    one = file(world)
    two = services.report_create(
        actor=_teacher2_user(world),
        employee=world.teacher2,
        data=report_input(),
        source="web",
    ).report
    pending = access.reports_decidable_by(world.users["atasan"], TODAY).filter(day=TODAY)
    assert services.reports_bulk_approve(actor=world.users["atasan"], reports=pending) == 2
    assert set(DailyReport.objects.values_list("status", flat=True)) == {"approved"}
    assert AuditEntry.objects.filter(action="kinerja.report_approve").count() == 2
    assert {one.employee_id, two.employee_id} == set(
        MonthlyEvaluation.objects.values_list("employee_id", flat=True)
    )


def test_bulk_approve_refuses_all_when_one_is_out_of_reach(world: World) -> None:
    file(world)
    own = services.report_create(
        actor=world.users["atasan"], employee=world.principal, data=report_input(), source="web"
    ).report
    with pytest.raises(PermissionDenied):
        services.reports_bulk_approve(
            actor=world.users["atasan"], reports=DailyReport.objects.all()
        )
    assert set(DailyReport.objects.values_list("status", flat=True)) == {"pending"}
    assert own.status == "pending"


def _teacher2_user(world: World) -> Any:
    from tepat.accounts.models import Role, User

    return User.objects.create(username=world.teacher2.nip, role=Role.ASN, employee=world.teacher2)


# --- the month ---------------------------------------------------------------------------------


def test_the_month_is_stored_with_policy_and_rules_versions(world: World) -> None:
    report = file(world)
    services.report_decide(actor=world.users["atasan"], report=report, decision="approve")
    evaluation = MonthlyEvaluation.objects.get(employee=world.teacher, year=2026, month=11)
    assert (evaluation.policy_name, evaluation.policy_version, evaluation.rules_version) == (
        "kinerja_default",
        "1",
        "kinerja-1",
    )
    assert evaluation.approved_minutes == 120
    assert evaluation.target_minutes == Decimal(6750)
    assert evaluation.productivity_percent == Decimal("1.78")  # 120 / 6750
    assert any("capaian 1,78%" in line for line in evaluation.explanation)


def test_the_supervisor_rates_the_month_and_gets_the_predicate(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.month_rate(
            actor=world.users["kepala_opd"], employee=world.teacher, year=2026, month=11,
            hasil_kerja="di_atas", perilaku="di_atas",
        )  # fmt: skip
    evaluation = services.month_rate(
        actor=world.users["atasan"], employee=world.teacher, year=2026, month=11,
        hasil_kerja="di_atas", perilaku="sesuai",
    )  # fmt: skip
    assert evaluation.predicate == "baik"
    assert AuditEntry.objects.get(action="kinerja.month_rate").after["predicate"] == "baik"


def test_a_stored_policy_version_replaces_the_shipped_one(world: World) -> None:
    from pathlib import Path

    text = (Path(services.__file__).parents[1] / "rules/policies/kinerja_default.yaml").read_text()
    text = (
        text.replace("name: kinerja_default", "name: kinerja_kabupaten")
        .replace("valid_from: 2022-01-01", "valid_from: 2026-11-01")
        .replace("minutes_per_month: 6750", "minutes_per_month: 6000")
    )
    services.kinerja_policy_save(actor=world.users["admin_bkpsdm"], definition=text)
    assert kinerja_policy_on(date(2026, 10, 31)).name == "kinerja_default"
    assert kinerja_policy_on(date(2026, 11, 1)).target.minutes_per_month == 6000
    with pytest.raises(ValidationError):
        services.kinerja_policy_save(
            actor=world.users["admin_bkpsdm"], definition=text.replace("6000", "0")
        )


# --- SKP ---------------------------------------------------------------------------------------


def test_skp_flow_cascade_submit_agree(world: World) -> None:
    own = services.skp_create(actor=world.users["atasan"], employee=world.principal, year=2026)
    principal_result = services.skp_result_add(
        actor=world.users["atasan"], skp=own, text="Mutu pembelajaran meningkat",
        indicators=[services.IndicatorInput("Nilai rapor rata-rata", Decimal(80), "nilai")],
    )  # fmt: skip
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    result = services.skp_result_add(
        actor=world.users["asn"], skp=skp, text="Pembelajaran kelas 4 terlaksana",
        indicators=[services.IndicatorInput("RPP disusun", Decimal(36), "dokumen")],
        intervensi=principal_result,
    )  # fmt: skip
    assert result.intervensi == principal_result
    services.skp_submit(actor=world.users["asn"], skp=skp)
    assert skp.supervisor == world.principal
    with pytest.raises(PermissionDenied):
        services.skp_decide(actor=world.users["kepala_opd"], skp=skp, agree=True)
    services.skp_decide(actor=world.users["atasan"], skp=skp, agree=True)
    assert skp.status == Skp.Status.AGREED
    with pytest.raises(ValidationError):
        services.skp_result_add(
            actor=world.users["asn"], skp=skp, text="Terlambat",
            indicators=[services.IndicatorInput("x", Decimal(1), "x")],
        )  # fmt: skip


def test_an_skp_cannot_cascade_from_someone_elses_result(world: World) -> None:
    other = services.skp_create(actor=world.users["kepala_opd"], employee=world.kadis, year=2026)
    kadis_result = services.skp_result_add(
        actor=world.users["kepala_opd"], skp=other, text="Layanan pendidikan merata",
        indicators=[services.IndicatorInput("APK", Decimal(95), "persen")],
    )  # fmt: skip
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    with pytest.raises(ValidationError):
        services.skp_result_add(
            actor=world.users["asn"], skp=skp, text="x",
            indicators=[services.IndicatorInput("x", Decimal(1), "x")], intervensi=kadis_result,
        )  # fmt: skip


def test_a_returned_skp_goes_back_with_a_reason(world: World) -> None:
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    services.skp_result_add(
        actor=world.users["asn"], skp=skp, text="Pembelajaran",
        indicators=[services.IndicatorInput("RPP", Decimal(36), "dokumen")],
    )  # fmt: skip
    services.skp_submit(actor=world.users["asn"], skp=skp)
    with pytest.raises(ValidationError):
        services.skp_decide(actor=world.users["atasan"], skp=skp, agree=False)
    services.skp_decide(
        actor=world.users["atasan"], skp=skp, agree=False, reason="Target terlalu rendah"
    )
    assert (skp.status, skp.editable) == ("returned", True)


def test_next_years_skp_starts_from_this_years(world: World) -> None:
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    services.skp_result_add(
        actor=world.users["asn"], skp=skp, text="Pembelajaran",
        indicators=[services.IndicatorInput("RPP", Decimal(36), "dokumen")],
    )  # fmt: skip
    nxt = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2027)
    assert nxt.copied_from == skp
    copied = nxt.results.get()
    assert copied.text == "Pembelajaran"
    assert [(i.text, i.target, i.unit) for i in copied.indicators.all()] == [
        ("RPP", Decimal(36), "dokumen")
    ]
    with pytest.raises(ValidationError):
        services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2027)


def test_realisation_counts_approved_quantities_against_agreed_targets(world: World) -> None:
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    result = services.skp_result_add(
        actor=world.users["asn"], skp=skp, text="Pembelajaran",
        indicators=[services.IndicatorInput("RPP", Decimal(36), "dokumen")],
    )  # fmt: skip
    services.skp_submit(actor=world.users["asn"], skp=skp)
    services.skp_decide(actor=world.users["atasan"], skp=skp, agree=True)
    report = file(world, skp_result_id=result.pk, quantity=Decimal(2), unit="Dokumen")
    services.report_decide(actor=world.users["atasan"], report=report, decision="approve")
    facts = selectors.month_facts(world.teacher, 2026, 11)
    assert facts.result.realisation_percent == Decimal("66.67")  # 2 of 36 / 12 = 3


# --- reminders ---------------------------------------------------------------------------------


def test_reports_waiting_too_long_are_reminded_by_email(world: World, clock: Any) -> None:
    from django.core import mail
    from django.core.management import call_command

    world.users["atasan"].email = "kepsek@sekolah.example"
    world.users["atasan"].save()
    file(world, day=TODAY - timedelta(days=1))
    assert services.review_reminders_send() == []  # filed just now: not yet
    clock.shift(timedelta(days=2))
    [reminder] = services.review_reminders_send()
    assert (reminder.supervisor_id, reminder.pending, reminder.emailed) == (
        world.principal.pk,
        1,
        True,
    )
    assert mail.outbox[-1].to == ["kepsek@sekolah.example"]
    assert "/kinerja/tinjauan/" in mail.outbox[-1].body
    call_command("kinerja_remind")


def test_the_reminder_goes_to_the_plt_while_the_supervisor_is_away(
    world: World, clock: Any
) -> None:
    file(world)
    clock.shift(timedelta(days=3))
    day_code(world.principal, timezone.localdate(), "cuti_sakit")
    [reminder] = services.review_reminders_send()
    assert reminder.supervisor_id == world.kadis.pk


def test_the_month_command_stores_everyone_in_post(world: World) -> None:
    from django.core.management import call_command

    call_command("kinerja_evaluate", "--month", "2026-11")
    assert MonthlyEvaluation.objects.filter(year=2026, month=11).count() == 6
