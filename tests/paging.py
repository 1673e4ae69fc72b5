"""For the tests of paged lists: more people in the shared world, and a list read page by page
as a person would, following the "next" link until there is none."""

import html
import re
from datetime import date

from django.test import Client

from tepat.org.models import Assignment, Employee, ScheduleGroup, Unit
from tepat.rules.nip import make_nip

ROW = re.compile(r'<tr data-employee="(\d+)"')
NEXT = re.compile(r'<a href="(\?[^"]*)" rel="next">')


def staff_add(
    unit: Unit, count: int, *, supervisor: Employee | None = None, first_serial: int = 100
) -> list[Employee]:
    """``count`` more employees in ``unit`` (names that sort in creation order)."""
    group = ScheduleGroup.objects.get(code="kantor-5hk")
    people = Employee.objects.bulk_create(
        [
            Employee(
                nip=make_nip(
                    "PNS", date(1960 + i // 28 % 30, 1, 1 + i % 28),
                    date(2010, 3, 1), "L", (first_serial + i) % 999 + 1,
                ),
                name=f"Pegawai {unit.code} {i:04d}",
                kind="PNS",
                gender="L",
                birth_date=date(1980, 1, 1),
            )
            for i in range(count)
        ]
    )  # fmt: skip
    Assignment.objects.bulk_create(
        [
            Assignment(
                employee=e, valid_from=date(2024, 1, 1), unit=unit, opd=unit.opd,
                supervisor=supervisor, jabatan="Staf",
                jabatan_kind=Assignment.JabatanKind.PELAKSANA, kelas_jabatan=6,
                golongan="III/a", schedule_group=group,
            )
            for e in people
        ]
    )  # fmt: skip
    return people


def pages_read(client: Client, path: str) -> list[list[int]]:
    """Every page of the list at ``path`` (with its query), by following "next": the employee
    ids of each page's rows, in order. Fails on a page that does not answer 200."""
    found: list[list[int]] = []
    base = path.split("?", 1)[0]
    url: str | None = path
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        text = response.content.decode()
        found.append([int(n) for n in ROW.findall(text)])
        link = NEXT.search(text)
        url = base + html.unescape(link.group(1)) if link else None
        assert len(found) < 200, "the pages never end"
    return found
