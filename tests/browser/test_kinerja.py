"""e-Kinerja in real Chromium: the teacher files a daily report on the web, her principal
approves it from the review queue, and the teacher's month shows the approved minutes."""

from typing import Any

import pytest

from tests.browser.login import log_in
from tests.world import World

# serialized_rollback: the flush after each test then keeps the content types that the
# serialized_rollback tests of this folder restore (else their pks clash).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _log_out(page: Any) -> None:
    page.click("form[action$='/akun/keluar/'] button[type=submit]")


def test_a_report_is_filed_and_approved(page: Any, live_server: Any, world: World) -> None:
    from tepat.kinerja.models import DailyReport

    log_in(page, live_server.url, world.teacher.nip)
    page.goto(f"{live_server.url}/kinerja/laporan/baru/")
    page.fill("#id_start_time", "08:00")
    page.fill("#id_end_time", "09:45")
    page.fill("#id_activity", "Menyusun modul ajar IPA kelas 4")
    page.fill("#id_output", "Modul ajar")
    page.fill("#id_unit", "dokumen")
    page.click("#report-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/kinerja/")
    assert "Menyusun modul ajar IPA kelas 4" in page.locator("section.day").first.inner_text()
    assert page.locator("#month-summary .tile strong").nth(1).inner_text() == "105"  # pending
    _log_out(page)

    log_in(page, live_server.url, world.principal.nip)
    page.goto(f"{live_server.url}/kinerja/tinjauan/")
    report = DailyReport.objects.get()
    row = page.locator(f"#report-{report.pk}")
    assert world.teacher.name in row.inner_text()
    row.locator("button[name=decision][value=approve]").click()
    page.wait_for_load_state()
    assert page.locator(f"#report-{report.pk}").count() == 0
    _log_out(page)

    log_in(page, live_server.url, world.teacher.nip)
    page.goto(f"{live_server.url}/kinerja/")
    tiles = page.locator("#month-summary .tile strong")
    assert tiles.nth(0).inner_text() == "105"  # approved
    assert tiles.nth(1).inner_text() == "0"  # nothing pending
