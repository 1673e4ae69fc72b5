"""The discipline list as BKPSDM and a Kepala OPD read it: TK working days in a row and in the
year from the stored verdicts, the PP 94/2021 level with its article, the PPPK path, and days
that drop out when an absence is approved later."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tepat.monitor import selectors
from tepat.org.models import Employee
from tests.monitor.days import verdicts, working_days_until
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")

DISMISSAL_ARTICLE = "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan Pasal 15 ayat (2)"
TEN = working_days_until(TODAY, 10)  # 10 to 23 November 2026


def test_ten_working_days_in_a_row_show_dismissal_with_its_article(world: World) -> None:
    verdicts(world.teacher2, TEN)
    client = login(Client(), world.users["kepala_opd"])

    page = client.get("/pantau/disiplin/").content.decode()
    detail = client.get(f"/pantau/disiplin/{world.teacher2.pk}/").content.decode()

    assert world.teacher2.name in page
    assert "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS" in page
    assert DISMISSAL_ARTICLE in page
    assert "10 hari kerja berturut-turut" in detail
    assert "23-11-2026" in detail


def test_a_friday_to_monday_absence_is_two_working_days(world: World) -> None:
    verdicts(world.teacher2, [date(2026, 11, 20), date(2026, 11, 23)])
    verdicts(world.teacher2, [date(2026, 11, 21), date(2026, 11, 22)], code="LIBUR")

    [row] = selectors.discipline_rows(Employee.objects.all(), TODAY)

    assert (row.status.consecutive_tk, row.status.cumulative_tk_year) == (2, 2)


def test_a_pppk_teacher_takes_the_contract_termination_path(world: World) -> None:
    verdicts(world.teacher, TEN)
    [row] = selectors.discipline_rows(Employee.objects.all(), TODAY)

    assert row.kind == "PPPK"
    assert row.status.level == "berat"
    assert row.status.sanction == (
        "pemutusan hubungan perjanjian kerja dengan hormat tidak atas permintaan sendiri"
    )


def test_an_absence_approved_later_removes_the_days(world: World) -> None:
    verdicts(world.teacher2, TEN)
    client = login(Client(), world.users["admin_bkpsdm"])
    assert DISMISSAL_ARTICLE in client.get("/pantau/disiplin/").content.decode()

    # The leave request for 16-18 November is approved: the rebuild turns those days into
    # cuti sakit, and the next read no longer counts them.
    verdicts(world.teacher2, TEN[4:7], code="cuti_sakit")
    [row] = selectors.discipline_rows(Employee.objects.all(), TODAY)
    page = client.get("/pantau/disiplin/").content.decode()

    assert (row.status.consecutive_tk, row.status.longest_consecutive_tk) == (3, 4)
    assert row.status.cumulative_tk_year == 7
    assert row.status.level == "ringan"
    assert row.status.sanction == "pernyataan tidak puas secara tertulis"
    assert DISMISSAL_ARTICLE not in page
    assert date(2026, 11, 17) not in row.tk_days


def test_the_outlook_warns_before_the_tenth_day(world: World) -> None:
    verdicts(world.teacher2, TEN[2:])  # 8 in a row
    [row] = selectors.discipline_rows(Employee.objects.all(), TODAY)

    assert next((u.threshold.code, u.days_to_go) for u in row.outlook) == ("TK_BERTURUT_10", 2)


def test_an_operator_of_dinkes_never_sees_dindik_names(world: World) -> None:
    verdicts(world.teacher2, TEN)
    verdicts(world.nurse, TEN[:3])
    client = login(Client(), world.users["operator_other"])

    page = client.get("/pantau/disiplin/").content.decode()

    assert world.nurse.name in page
    assert world.teacher2.name not in page
    assert client.get(f"/pantau/disiplin/{world.teacher2.pk}/").status_code == 404


def test_an_atasan_sees_their_team_and_an_asn_only_themself(world: World) -> None:
    verdicts(world.teacher2, TEN[:3])
    verdicts(world.teacher, TEN[:3])
    verdicts(world.kadis, TEN[:3])

    team = login(Client(), world.users["atasan"]).get("/pantau/disiplin/").content.decode()
    own = login(Client(), world.users["asn"]).get("/pantau/disiplin/").content.decode()

    assert world.teacher2.name in team
    assert world.teacher.name in team
    assert world.kadis.name not in team
    assert world.teacher.name in own
    assert world.teacher2.name not in own


def test_last_years_days_do_not_count_toward_this_year(world: World) -> None:
    verdicts(world.nurse, working_days_until(date(2025, 12, 31), 5))
    assert selectors.discipline_rows(Employee.objects.all(), TODAY) == []


def test_the_list_costs_the_same_queries_for_one_or_five_people(world: World) -> None:
    verdicts(world.teacher2, TEN)
    with CaptureQueriesContext(connection) as one:
        selectors.discipline_rows(Employee.objects.all(), TODAY)
    for e in (world.teacher, world.principal, world.nurse, world.kadinkes):
        verdicts(e, TEN[:4])
    with CaptureQueriesContext(connection) as five:
        rows = selectors.discipline_rows(Employee.objects.all(), TODAY)

    assert len(rows) == 5
    assert len(five) == len(one) <= 3
    assert rows[0].employee_id == world.teacher2.pk  # the most serious first


def test_the_database_shortcut_counts_exactly_like_the_rules_on_every_day(world: World) -> None:
    """The list reads only TK days and what breaks a streak; on random verdict histories it
    agrees with the rules given every stored day."""
    import random

    from tepat.presence.models import AttendanceDay
    from tepat.rules import discipline

    rnd = random.Random(8)
    people = [world.teacher, world.teacher2, world.principal, world.kadis, world.nurse]
    days = [date(2025, 12, 1) + timedelta(days=n) for n in range(120)]
    policy = selectors.discipline_policy()
    for _round in range(6):
        AttendanceDay.objects.all().delete()
        histories: dict[int, list[discipline.DisciplineDay]] = {}
        for person in people:
            codes = rnd.choices(["TK", "TK", "H", "LIBUR", "sakit"], k=len(days))
            kept = [(d, c) for d, c in zip(days, codes, strict=True) if rnd.random() < 0.95]
            for code in {c for _d, c in kept}:
                verdicts(person, [d for d, c in kept if c == code], code=code)
            histories[person.pk] = [discipline.DisciplineDay(d, c) for d, c in kept]
        on = days[-1]
        got = {
            r.employee_id: r.status for r in selectors.discipline_rows(Employee.objects.all(), on)
        }
        for person in people:
            kind = "PPPK" if person.kind == "PPPK" else "PNS"
            start = date(on.year, 1, 1) - selectors.STREAK_LOOKBACK
            expected = discipline.discipline_status(
                [d for d in histories[person.pk] if d.date >= start], policy, year=on.year,
                kind=kind,
            )  # fmt: skip
            if expected.cumulative_tk_year == 0:
                assert person.pk not in got
                continue
            status = got[person.pk]
            assert (status.consecutive_tk, status.longest_consecutive_tk) == (
                expected.consecutive_tk,
                expected.longest_consecutive_tk,
            )
            assert status.cumulative_tk_year == expected.cumulative_tk_year
            assert [c.key for c in status.thresholds_crossed] == [
                c.key for c in expected.thresholds_crossed
            ]
            assert [c.on for c in status.thresholds_crossed] == [
                c.on for c in expected.thresholds_crossed
            ]
