"""The attendance recap of many people, a page at a time: nobody is lost or listed twice, every
role sees only its own people on every page, the filters stay across pages, and bad
parameters give a message or a sane default, never an error page."""

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tepat import list_filters
from tepat.org.models import Employee
from tests.monitor.days import verdicts
from tests.paging import pages_read, staff_add
from tests.world import World, login

RECAP = "/presensi/rekap/?bulan=2026-11"


@pytest.fixture
def crowd(world: World) -> dict[str, list[int]]:
    """23 more in the Dinas Pendidikan office (7 of them under the principal), 9 at the
    puskesmas; pages of 5."""
    office = staff_add(world.dindik_office, 16, first_serial=100)
    team = staff_add(world.school, 7, supervisor=world.principal, first_serial=300)
    pkm = staff_add(world.puskesmas, 9, first_serial=500)
    return {
        "dindik": [e.pk for e in (*office, *team, world.kadis, world.principal, world.teacher,
                                  world.teacher2)],
        "team": [e.pk for e in (*team, world.principal, world.teacher, world.teacher2)],
        "dinkes": [e.pk for e in (*pkm, world.nurse, world.kadinkes)],
    }  # fmt: skip


@pytest.fixture(autouse=True)
def pages_of_five(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(list_filters, "PAGE_SIZE", 5)


def _everyone(pages: list[list[int]]) -> list[int]:
    listed = [pk for page in pages for pk in page]
    assert len(listed) == len(set(listed)), "someone is on two pages"
    return listed


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("admin_bkpsdm", ("dindik", "dinkes")),
        ("auditor", ("dindik", "dinkes")),
        ("operator_opd", ("dindik",)),
        ("kepala_opd", ("dindik",)),
        ("operator_other", ("dinkes",)),
        ("atasan", ("team",)),
    ],
)
def test_every_page_together_lists_exactly_the_people_the_role_may_see(
    world: World, crowd: dict[str, list[int]], role: str, scope: tuple[str, ...]
) -> None:
    pages = pages_read(login(Client(), world.users[role]), RECAP)

    expected = {pk for key in scope for pk in crowd[key]}
    assert set(_everyone(pages)) == expected
    assert all(len(p) == 5 for p in pages[:-1])
    assert 1 <= len(pages[-1]) <= 5
    names = list(Employee.objects.filter(pk__in=expected).order_by("name", "nip", "pk"))
    assert _everyone(pages) == [e.pk for e in names]  # by name, stable across pages


def test_an_asn_sees_only_her_own_row_on_any_page(world: World, crowd: dict) -> None:
    client = login(Client(), world.users["asn"])

    assert pages_read(client, RECAP) == [[world.teacher.pk]]
    assert pages_read(client, RECAP + "&page=7") == [[world.teacher.pk]]


def test_the_page_says_how_many_and_which_are_shown(world: World, crowd: dict) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    total = len(crowd["dindik"]) + len(crowd["dinkes"])  # 38

    text = client.get(RECAP + "&page=2").content.decode()

    assert f"{total} orang; ditampilkan 6–10." in text
    assert "Halaman 2 dari 8" in text
    assert "Sebelumnya" in text
    assert "Berikutnya" in text


def test_the_opd_and_month_filters_stay_on_every_page(world: World, crowd: dict) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    path = f"/presensi/rekap/?bulan=2026-10&opd={world.dinkes.pk}"

    pages = pages_read(client, path)
    last = client.get(path + "&page=2").content.decode()

    assert set(_everyone(pages)) == set(crowd["dinkes"])
    assert f"opd={world.dinkes.pk}" in last
    assert "bulan=2026-10" in last
    assert 'value="2026-10"' in last


def test_only_the_page_shown_is_counted(world: World, crowd: dict) -> None:
    """The counts of a person on the third page are right, and a page costs the same queries
    whoever else is in the month."""
    client = login(Client(), world.users["admin_bkpsdm"])
    third = pages_read(client, RECAP)[2]
    person = Employee.objects.get(pk=third[1])
    verdicts(person, [date(2026, 11, d) for d in (2, 3, 4)])
    verdicts(person, [date(2026, 11, 5)], code="H")

    text = client.get(RECAP + "&page=3").content.decode()
    row = text.split(f'<tr data-employee="{person.pk}">', 1)[1].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0] for c in row.split("<td")[1:]]
    with CaptureQueriesContext(connection) as few:
        client.get(RECAP + "&page=3")
    for e in Employee.objects.exclude(pk=person.pk):
        verdicts(e, [date(2026, 11, 2)])
    with CaptureQueriesContext(connection) as many:
        client.get(RECAP + "&page=3")

    assert cells[2].endswith(">1")
    assert cells[11].endswith(">3")
    assert len(many) == len(few)


def test_more_than_a_thousand_people_are_all_there(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page once stopped at 1,000 rows without a word; now the last page holds the rest."""
    monkeypatch.setattr(list_filters, "PAGE_SIZE", 100)
    staff_add(world.dindik_office, 1_050, first_serial=0)
    client = login(Client(), world.users["operator_opd"])

    pages = pages_read(client, RECAP)

    assert len(_everyone(pages)) == 1_054
    assert len(pages) == 11
    assert len(pages[-1]) == 54


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999", "9" * 30, ""])
def test_a_bad_page_number_shows_a_page_never_an_error(
    world: World, crowd: dict, page: str
) -> None:
    client = login(Client(), world.users["operator_opd"])

    response = client.get(f"{RECAP}&page={page}")

    assert response.status_code == 200
    assert len(pages_read(client, f"{RECAP}&page={page}")[0]) >= 1


@pytest.mark.parametrize("month", ["november", "2026-13", "9999-12", "0001-01", "2026-1-1"])
def test_a_bad_month_says_so_and_shows_this_month(world: World, month: str) -> None:
    response = login(Client(), world.users["admin_bkpsdm"]).get(f"/presensi/rekap/?bulan={month}")
    text = response.content.decode()

    assert response.status_code == 200
    assert "Bulan tidak valid: tulis sebagai TTTT-BB." in text


@pytest.mark.parametrize("opd", ["abc", "99999", "-1", "9" * 40])
def test_an_unknown_opd_says_so_and_lists_every_opd_the_person_may_see(
    world: World, crowd: dict, opd: str
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.get(f"{RECAP}&opd={opd}")

    assert response.status_code == 200
    assert "OPD tidak ditemukan." in response.content.decode()


def test_an_operator_asking_for_another_opd_still_sees_only_her_own(
    world: World, crowd: dict[str, list[int]]
) -> None:
    client = login(Client(), world.users["operator_opd"])

    pages = pages_read(client, f"{RECAP}&opd={world.dinkes.pk}")

    assert set(_everyone(pages)) == set(crowd["dindik"])
    assert "OPD tidak ditemukan." in client.get(f"{RECAP}&opd={world.dinkes.pk}").content.decode()
