"""The monthly run evaluates everyone at once from sums the database makes; its results must be
exactly those of evaluating each employee's reports one line at a time."""

from dataclasses import replace
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from tepat.kinerja import selectors, services
from tepat.kinerja.models import DailyReport, MonthlyEvaluation
from tepat.presence.models import AttendanceDay
from tepat.rules import kinerja as rules
from tests.kinerja.conftest import report_input
from tests.world import TODAY, World


def _file(world: World, **fields: Any) -> DailyReport:
    return services.report_create(
        actor=world.users["asn"], employee=world.teacher, data=report_input(**fields), source="app"
    ).report


def _a_busy_month(world: World) -> None:
    """Approved, adjusted, rejected and pending reports, one approved on a day that the
    verdict later marked as leave, quantities against an agreed SKP, and a rating."""
    atasan = world.users["atasan"]
    skp = services.skp_create(actor=world.users["asn"], employee=world.teacher, year=2026)
    result = services.skp_result_add(
        actor=world.users["asn"], skp=skp, text="Pembelajaran",
        indicators=[services.IndicatorInput("RPP", Decimal(36), "dokumen")],
    )  # fmt: skip
    services.skp_submit(actor=world.users["asn"], skp=skp)
    services.skp_decide(actor=atasan, skp=skp, agree=True)
    for report in [
        _file(world, skp_result_id=result.pk, quantity=Decimal(2), unit=" Dokumen"),
        _file(world, day=TODAY - timedelta(days=3), skp_result_id=result.pk, unit="dokumen"),
    ]:
        services.report_decide(actor=atasan, report=report, decision="approve")
    adjusted = _file(world, start_time=time(10), end_time=time(12, 30))
    services.report_decide(
        actor=atasan, report=adjusted, decision="adjust", minutes=90, reason="Terlalu lama"
    )
    rejected = _file(world, day=TODAY - timedelta(days=1), minutes=45)
    services.report_decide(actor=atasan, report=rejected, decision="reject", reason="Bukan tugas")
    _file(world, day=TODAY - timedelta(days=1), start_time=time(13), end_time=time(14, 10))
    leave_day = TODAY - timedelta(days=4)
    on_leave = _file(world, day=leave_day, minutes=200)
    services.report_decide(actor=atasan, report=on_leave, decision="approve")
    AttendanceDay.objects.create(
        employee=world.teacher, day=leave_day, day_code="cuti_tahunan", rules_version="t",
        computed_at=timezone.now(),
    )  # fmt: skip
    services.month_rate(
        actor=atasan, employee=world.teacher, year=2026, month=11,
        hasil_kerja="di_atas", perilaku="sesuai",
    )  # fmt: skip


def _one_line_each(world: World, month: rules.KinerjaMonth) -> rules.KinerjaMonth:
    """The same month with the reports one line each, as the rules core sums them itself."""
    codes = dict(AttendanceDay.objects.values_list("day", "day_code"))
    lines = tuple(
        rules.ReportLine(r.day, r.minutes, r.status, r.approved_minutes, codes.get(r.day))  # type: ignore[arg-type]
        for r in DailyReport.objects.filter(employee=world.teacher)
    )
    return replace(month, totals=None, reports=lines)


def test_sums_from_the_database_give_the_result_of_the_lines(world: World) -> None:
    _a_busy_month(world)
    policy, months = selectors.months_gather(2026, 11)
    summed = months[world.teacher.pk]

    expected = rules.kinerja_month_evaluate(_one_line_each(world, summed), policy)
    assert rules.kinerja_month_evaluate(summed, policy) == expected
    assert (expected.approved_minutes, expected.excluded_minutes) == (120 + 120 + 90, 200)
    assert (expected.pending_minutes, expected.rejected_minutes) == (70, 45)
    assert expected.report_counts == {"approved": 4, "pending": 1, "rejected": 1}
    assert expected.realisation_percent == Decimal("100.00")  # 3 of 36 / 12, units folded
    assert expected.predicate == "baik"
    assert any("tidak dihitung" in line for line in expected.explanation)  # the leave day


def test_the_monthly_command_stores_what_one_employee_at_a_time_stores(world: World) -> None:
    _a_busy_month(world)
    call_command("kinerja_evaluate", "--month", "2026-11")
    stored = {e.employee_id: e for e in MonthlyEvaluation.objects.filter(year=2026, month=11)}
    assert len(stored) == 6  # everyone in post in the shared world
    assert (stored[world.teacher.pk].hasil_kerja, stored[world.teacher.pk].predicate) == (
        "di_atas",
        "baik",
    )  # the supervisor's rating survives the run
    fields = [
        f.name
        for f in MonthlyEvaluation._meta.concrete_fields
        if f.name not in {"id", "computed_at"}
    ]
    for bulk in stored.values():
        one = services.month_evaluation_store(employee=bulk.employee, year=2026, month=11)
        assert [getattr(bulk, f) for f in fields] == [getattr(one, f) for f in fields]
