"""Daily reports partitioned by month of their day on PostgreSQL: a client id stays unique
across months, a report can move to another month, be withdrawn, and decisions keep pointing
at real reports (SQLite: one plain table, the same answers where both can give them)."""

from datetime import date
from uuid import uuid4

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from tepat.kinerja.models import DailyReport, ReportDecision, ReportKey
from tests.world import TODAY, World

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps the reports in one plain table"
)


def _report(world: World, client_id: object, day: date = TODAY) -> DailyReport:
    return DailyReport.objects.create(
        client_id=client_id,
        employee=world.teacher,
        day=day,
        minutes=60,
        activity="Menyusun modul ajar",
        source="app",
        received_at=timezone.now(),
    )


def _partition_of(report: DailyReport) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM kinerja_dailyreport WHERE id = %s", [report.pk]
        )
        return str(cursor.fetchone()[0])


def test_a_client_id_is_refused_twice_even_for_another_month(world: World) -> None:
    client_id = uuid4()
    _report(world, client_id, date(2026, 11, 23))
    with pytest.raises(IntegrityError), transaction.atomic():
        _report(world, client_id, date(2027, 1, 4))
    assert DailyReport.objects.filter(client_id=client_id).count() == 1


def test_a_report_moved_to_another_month_keeps_its_client_id(world: World) -> None:
    client_id = uuid4()
    report = _report(world, client_id, date(2026, 11, 23))
    for day in (date(2026, 12, 2), date(2027, 1, 5)):
        report.day = day
        report.save()
    report.refresh_from_db()
    assert report.day == date(2027, 1, 5)
    assert DailyReport.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        _report(world, client_id)
    if connection.vendor == "postgresql":
        assert _partition_of(report) == "kinerja_dailyreport_y2027m01"
        assert list(ReportKey.objects.values_list("client_id", "report_id")) == [
            (client_id, report.pk)
        ]


def test_a_withdrawn_report_frees_its_client_id(world: World) -> None:
    client_id = uuid4()
    _report(world, client_id).delete()
    again = _report(world, client_id)
    assert DailyReport.objects.get().pk == again.pk


@postgresql_only
def test_decisions_point_only_at_reports_and_keep_them(world: World) -> None:
    report = _report(world, uuid4())
    reviewer = world.users["atasan"]
    fields = {"decision": "approve", "minutes_claimed": 60, "at": timezone.now()}
    ReportDecision.objects.create(report=report, reviewer=reviewer, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportDecision.objects.create(report_id=report.pk + 1000, reviewer=reviewer, **fields)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM kinerja_dailyreport WHERE id = %s", [report.pk])
    assert DailyReport.objects.filter(pk=report.pk).exists()


@postgresql_only
def test_a_client_id_never_changes(world: World) -> None:
    report = _report(world, uuid4())
    with pytest.raises(DatabaseError), transaction.atomic():
        DailyReport.objects.filter(pk=report.pk).update(client_id=uuid4())
