"""Trends over a year: TK, TL and PSW working days per month, drawn on the server as SVG (no
script, no style attribute) with the same numbers in a table, scoped like the dashboard."""

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tepat.presence.models import AttendanceDay
from tests.world import World, login

pytestmark = pytest.mark.usefixtures("clock")


def _days(employee: Any, days: list[date], **codes: str) -> None:
    for d in days:
        AttendanceDay.objects.create(
            employee=employee, day=d, rules_version="verdict-1", computed_at=timezone.now(),
            **{"day_code": "H", **codes},
        )  # fmt: skip


@pytest.fixture
def year(world: World) -> None:
    _days(world.teacher2, [date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)], day_code="TK")
    _days(world.teacher2, [date(2026, 11, 2), date(2026, 11, 3)], day_code="TK")
    _days(world.teacher, [date(2026, 11, d) for d in (9, 10, 11, 12)], in_code="TL2")
    _days(world.nurse, [date(2026, 9, 1)], out_code="PSW4")
    _days(world.nurse, [date(2026, 9, 2)], day_code="LIBUR")  # not a working day
    _days(world.nurse, [date(2025, 9, 1)], day_code="TK")  # last year


def _table(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, table_id
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


@pytest.mark.usefixtures("year")
def test_bkpsdm_sees_the_months_of_the_year_in_a_chart_and_a_table(world: World) -> None:
    page = login(Client(), world.users["admin_bkpsdm"]).get("/pantau/tren/").content.decode()

    rows = _table(page, "trend-table")
    assert len(rows) == 11  # January to November: December has not come yet
    assert rows[8][1:] == ["0", "0", "1", "1"]  # September: the nurse left early once
    assert rows[9][1:] == ["3", "0", "0", "3"]  # October
    assert rows[10][1:] == ["2", "4", "0", "6"]  # November
    tk_line = re.search(r'data-series="tk">\s*<polyline points="([^"]+)"', page)
    assert tk_line
    assert len(tk_line.group(1).split()) == 11
    assert "<svg" in page
    assert 'role="img"' in page
    assert " style=" not in page  # the CSP forbids inline styles
    by_opd = {r[0]: r[1:] for r in _table(page, "trend-opd")}
    assert by_opd == {
        world.dindik.name: ["5", "4", "0", "9"],
        world.dinkes.name: ["0", "0", "1", "1"],
    }


@pytest.mark.usefixtures("year")
def test_one_opd_and_a_past_year(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    dinkes = client.get(f"/pantau/tren/?opd={world.dinkes.pk}").content.decode()
    last_year = client.get("/pantau/tren/?tahun=2025").content.decode()

    assert [r[1] for r in _table(dinkes, "trend-table")] == ["0"] * 11
    assert len(_table(last_year, "trend-table")) == 12
    assert _table(last_year, "trend-table")[8][1] == "1"


@pytest.mark.usefixtures("year")
def test_a_kepala_opd_sees_only_their_opd(world: World) -> None:
    client = login(Client(), world.users["kepala_opd"])

    page = client.get(f"/pantau/tren/?opd={world.dinkes.pk}").content.decode()

    assert world.dinkes.name not in page
    assert [r[3] for r in _table(page, "trend-table")][8] == "0"  # no PSW of the nurse


def test_a_bad_year_shows_this_year(world: World) -> None:
    response = login(Client(), world.users["admin_bkpsdm"]).get("/pantau/tren/?tahun=20x6")

    assert response.status_code == 200
    assert '<option value="2026" selected>' in response.content.decode()
