"""The attendance recap paged in real Chromium: BKPSDM picks a month and an OPD, walks the
pages with "Berikutnya" and back, and the filters stay chosen on every page."""

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tepat import list_filters
from tests.browser.login import log_in
from tests.paging import staff_add
from tests.world import World

# Set TEPAT_SCREENSHOTS to a folder to look at the pages the browser tests saw.
SCREENSHOTS = os.environ.get("TEPAT_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shown(page: Any) -> list[str]:
    return [
        str(row.get_attribute("data-employee"))
        for row in page.locator("#recap tbody tr[data-employee]").all()
    ]


def test_bkpsdm_walks_the_pages_of_one_opds_month(
    page: Any, live_server: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(list_filters, "PAGE_SIZE", 5)
    staff_add(world.dindik_office, 8, first_serial=100)  # Dinas Pendidikan: 12 in all
    staff_add(world.puskesmas, 6, first_serial=300)
    log_in(page, live_server.url, "bkpsdm")

    page.goto(f"{live_server.url}/presensi/rekap/")
    page.fill("input[type=month][name=bulan]", "2026-10")
    page.select_option("select[name=opd]", str(world.dindik.pk))
    page.click("form.filters:not(.export) button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#recap-count")).to_have_text("12 orang; ditampilkan 1–5.")
    first = _shown(page)

    page.click("a[rel=next]")
    page.wait_for_load_state()
    expect(page.locator("#recap-count")).to_have_text("12 orang; ditampilkan 6–10.")
    expect(page.locator("nav.pager")).to_contain_text("Halaman 2 dari 3")
    expect(page.locator("select[name=opd]")).to_have_value(str(world.dindik.pk))
    expect(page.locator("input[type=month][name=bulan]")).to_have_value("2026-10")
    second = _shown(page)
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "rekap-halaman-2.png"), full_page=True)

    page.click("a[rel=next]")
    page.wait_for_load_state()
    expect(page.locator("#recap-count")).to_have_text("12 orang; ditampilkan 11–12.")
    expect(page.locator("a[rel=next]")).to_have_count(0)
    third = _shown(page)

    page.click("a[rel=prev]")
    page.wait_for_load_state()
    assert _shown(page) == second
    assert len(set(first + second + third)) == 12
    assert world.nurse.pk not in {int(pk) for pk in first + second + third}
