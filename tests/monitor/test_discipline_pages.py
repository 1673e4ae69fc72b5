"""The discipline list and the monthly discipline report of many people, a page at a time.

The list reads from the database only the people with a TK working day in the period the rules
look at, and only their TK days and what broke each streak; these tests hold it against the
rules core given every stored day of every person the user may see (the un-narrowed
computation), on a varied population, page by page and role by role."""

import random
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tepat import list_filters
from tepat.accounts import access
from tepat.monitor import selectors
from tepat.org.models import Employee
from tepat.presence.models import AttendanceDay
from tepat.rules import discipline
from tests.paging import pages_read, staff_add
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")

START = date(TODAY.year, 1, 1) - selectors.STREAK_LOOKBACK  # 1 December of the year before
PROFILES = {
    # name: (share of working days TK, chance a streak of 3-12 starts on a day)
    "never": (0.0, 0.0),
    "now and then": (0.02, 0.0),
    "often": (0.08, 0.01),
    "streaks": (0.0, 0.03),
}


@pytest.fixture(autouse=True)
def pages_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(list_filters, "PAGE_SIZE", 4)


@pytest.fixture
def population(world: World) -> dict[int, list[discipline.DisciplineDay]]:
    """42 more people over both OPDs (8 under the principal), each with a year of stored
    verdicts from 1 December: never absent, now and then, often, in long streaks; days off
    turned working-day-off (LIBUR), sick and annual leave between; some whose only TK days
    were last December. Returns everyone's stored days."""
    rnd = random.Random(94)
    people = [
        world.kadis, world.principal, world.teacher, world.teacher2, world.nurse,
        world.kadinkes,
        *staff_add(world.dindik_office, 18, first_serial=100),
        *staff_add(world.school, 8, supervisor=world.principal, first_serial=300),
        *staff_add(world.puskesmas, 16, first_serial=500),
    ]  # fmt: skip
    days = [START + timedelta(n) for n in range((TODAY - START).days + 1)]
    now = timezone.now()
    stored: dict[int, list[discipline.DisciplineDay]] = {}
    rows = []
    for n, person in enumerate(people):
        rate, streaky = PROFILES[list(PROFILES)[n % len(PROFILES)]]
        december_only = n % 11 == 5
        streak = 0
        history = []
        for d in days:
            if d.weekday() >= 5:
                continue
            roll = rnd.random()
            if streaky and not streak and roll < streaky:
                streak = rnd.randint(3, 12)
            if december_only:
                code = "TK" if d.year < TODAY.year and roll < 0.3 else "H"
            elif streak:
                streak -= 1
                code = "TK"
            elif roll < rate:
                code = "TK"
            else:
                code = rnd.choices(["H", "LIBUR", "cuti_sakit", "cuti_tahunan"], [90, 3, 4, 3])[0]
            history.append(discipline.DisciplineDay(d, code))
            rows.append(
                AttendanceDay(
                    employee=person, day=d, day_code=code, rules_version="verdict-1",
                    computed_at=now,
                )
            )  # fmt: skip
        stored[person.pk] = history
    AttendanceDay.objects.bulk_create(rows, batch_size=2000)
    return stored


def _unnarrowed(user: object, stored: dict[int, list[discipline.DisciplineDay]]) -> list[int]:
    """The list as the rules core gives it from every stored day of every visible person: who
    has a TK day this year, the most serious first, then by name."""
    policy = selectors.discipline_policy()
    found = []
    for person in access.employees_visible_to(user, TODAY):
        kind = "PPPK" if person.kind == Employee.Kind.PPPK else "PNS"
        status = discipline.discipline_status(
            stored.get(person.pk, []), policy, year=TODAY.year, kind=kind
        )
        if status.cumulative_tk_year:
            rank = selectors.LEVEL_RANK.get(status.level or "", 0)
            severity = (rank, status.consecutive_tk, status.cumulative_tk_year)
            found.append((tuple(-n for n in severity), person.full_name, person.pk))
    return [pk for *_key, pk in sorted(found)]


def _listed(pages: list[list[int]]) -> list[int]:
    listed = [pk for page in pages for pk in page]
    assert len(listed) == len(set(listed)), "someone is on two pages"
    assert all(len(p) == 4 for p in pages[:-1])
    return listed


@pytest.mark.parametrize(
    "role",
    ["admin_bkpsdm", "auditor", "operator_opd", "kepala_opd", "operator_other", "atasan", "asn"],
)
def test_every_page_of_the_list_together_is_the_rules_cores_list(
    world: World, population: dict, role: str
) -> None:
    user = world.users[role]
    expected = _unnarrowed(user, population)

    pages = pages_read(login(Client(), user), "/pantau/disiplin/")

    assert _listed(pages) == expected
    assert len(expected) >= (1 if role == "asn" else 4)


def test_the_narrowed_counts_equal_the_rules_core_on_every_stored_day(
    world: World, population: dict[int, list[discipline.DisciplineDay]]
) -> None:
    policy = selectors.discipline_policy()
    rows = {r.employee_id: r for r in selectors.discipline_rows(Employee.objects.all(), TODAY)}
    levels = set()
    for person in Employee.objects.all():
        kind = "PPPK" if person.kind == Employee.Kind.PPPK else "PNS"
        expected = discipline.discipline_status(
            population.get(person.pk, []), policy, year=TODAY.year, kind=kind
        )
        if not expected.cumulative_tk_year:
            assert person.pk not in rows
            continue
        got = rows[person.pk].status
        levels.add(got.level)
        assert got == expected

    assert {None, "ringan", "sedang", "berat"} <= levels  # the population is varied enough


def test_one_opd_of_the_regency_pages_only_its_people(
    world: World, population: dict[int, list[discipline.DisciplineDay]]
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    expected = _unnarrowed(world.users["operator_other"], population)

    pages = pages_read(client, f"/pantau/disiplin/?opd={world.dinkes.pk}")
    second = client.get(f"/pantau/disiplin/?opd={world.dinkes.pk}&page=2").content.decode()

    assert _listed(pages) == expected
    assert f"opd={world.dinkes.pk}&amp;page=3" in second  # the filter stays on the links
    assert f"{len(expected)} orang; ditampilkan 5–8." in second


@pytest.mark.parametrize(
    "query", ["page=abc", "page=0", "page=999999", "opd=abc", "opd=99999", "opd=-3"]
)
def test_bad_parameters_of_the_list_give_a_page_not_an_error(
    world: World, population: dict, query: str
) -> None:
    response = login(Client(), world.users["kepala_opd"]).get(f"/pantau/disiplin/?{query}")

    assert response.status_code == 200
    assert 'data-employee="' in response.content.decode()
    if query.startswith("opd"):
        assert "OPD tidak ditemukan." in response.content.decode()


# --- the monthly report ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["admin_bkpsdm", "auditor", "operator_opd", "kepala_opd", "operator_other"]
)
def test_every_page_of_the_report_together_names_everyone_the_summary_counts(
    world: World, population: dict, role: str
) -> None:
    user = world.users[role]
    client = login(Client(), user)
    expected = _unnarrowed(user, population)

    pages = pages_read(client, "/pantau/laporan/?bulan=2026-11")
    text = client.get("/pantau/laporan/?bulan=2026-11").content.decode()
    summary = text.split('id="report-opd"', 1)[1].split("</table>", 1)[0]
    people = [
        int(row.split('<td class="n">', 2)[1].split("<", 1)[0]) for row in summary.split("<tr>")[2:]
    ]

    assert _listed(pages) == expected
    assert sum(people) == len(expected)


def test_an_asn_and_an_atasan_may_not_open_the_report(world: World, population: dict) -> None:
    for role in ("asn", "atasan"):
        response = login(Client(), world.users[role]).get("/pantau/laporan/?page=2")
        assert response.status_code == 403


@pytest.mark.parametrize(
    "query", ["bulan=november", "bulan=9999-12", "bulan=2026-00", "page=x", "page=-1", "opd=x"]
)
def test_bad_parameters_of_the_report_give_a_page_not_an_error(
    world: World, population: dict, query: str
) -> None:
    response = login(Client(), world.users["admin_bkpsdm"]).get(f"/pantau/laporan/?{query}")
    text = response.content.decode()

    assert response.status_code == 200
    assert 'id="report-people"' in text
    if query.startswith("bulan"):
        assert "Bulan tidak valid: tulis sebagai TTTT-BB." in text
