"""e-Kinerja in real Chromium: the teacher files a daily report on the web, her principal
approves it from the review queue, and the teacher's month shows the approved minutes; the
same from the phone app with no signal, sent once when the signal comes back."""

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.login import log_in
from tests.world import PASSWORD, World

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


def _db_soon(page: Any, read: Any) -> Any:
    """`read()` once it answers truthy, waiting up to 10 s: the in-memory SQLite shared with
    the live server locks a table while the other thread writes to it."""
    from django.db import OperationalError

    for _ in range(100):
        try:
            found = read()
        except OperationalError:
            found = None
        if found:
            return found
        page.wait_for_timeout(100)
    return read()


def _report_fill(page: Any, start: str, end: str, activity: str) -> None:
    page.fill("#report-start", start)
    page.fill("#report-end", end)
    page.fill("#report-activity", activity)
    page.fill("#report-output", "Modul ajar")
    page.fill("#report-unit", "dokumen")
    page.click("#report-submit")


def test_a_report_filed_offline_in_the_phone_app_is_sent_once_and_approved(
    browser: Any, page: Any, live_server: Any, world: World
) -> None:
    from tepat.kinerja.models import DailyReport

    context = browser.new_context(
        geolocation={"latitude": -2.4233, "longitude": 101.1667, "accuracy": 12},
        permissions=["geolocation"],
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        viewport={"width": 360, "height": 640},
    )
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    batches: list[str] = []  # batches the server answered (offline tries fail on the phone)
    context.on(
        "requestfinished",
        lambda r: batches.append(r.url) if r.url.endswith("/kinerja/reports/batch") else None,
    )
    phone.goto(f"{live_server.url}/app/")
    phone.fill("#nip", world.teacher.nip)
    phone.fill("#password", PASSWORD)
    phone.click("#login-submit")
    expect(phone.locator("#report-month")).to_contain_text("0 menit disetujui")
    phone.wait_for_selector("html[data-offline-ready]", state="attached")
    context.set_offline(True)

    items = phone.locator("#report-queue li.q")
    _report_fill(phone, "08:00", "09:45", "Menyusun modul ajar IPA kelas 4")
    # As a person would: the next report once the phone shows the first one kept (saving
    # clears the form, so typing into it before that would lose what was typed).
    expect(items).to_have_count(1)
    _report_fill(phone, "09:30", "10:00", "Rapat guru")  # overlaps the first one

    expect(items).to_have_count(2)
    expect(items.locator(".q-state")).to_have_text(["Menunggu dikirim", "Menunggu dikirim"])
    overlapping_id, first_id = (items.nth(i).get_attribute("data-id") for i in range(2))
    assert DailyReport.objects.count() == 0

    context.set_offline(False)  # the `online` event sends the queue

    first = phone.locator(f"#report-queue li[data-id='{first_id}'] .q-state")
    expect(first).to_have_text("Diterima, menunggu persetujuan atasan")
    refused = phone.locator(f"#report-queue li[data-id='{overlapping_id}'] .q-state")
    expect(refused).to_contain_text("Ditolak: ")
    expect(refused).to_contain_text("bertumpang tindih dengan laporan lain")
    expect(phone.locator("#report-month")).to_contain_text("105 menit menunggu atasan")
    report = _db_soon(phone, lambda: DailyReport.objects.first())
    assert (str(report.client_id), report.minutes, report.source) == (first_id, 105, "app")
    assert report.written_at is not None
    assert report.written_at < report.received_at

    # Opening the app again sends nothing more: both answers are kept on the phone.
    phone.reload()
    expect(first).to_have_text("Diterima, menunggu persetujuan atasan")
    assert len(batches) == 1
    assert DailyReport.objects.count() == 1

    # The principal approves it on the web.
    log_in(page, live_server.url, world.principal.nip)
    page.goto(f"{live_server.url}/kinerja/tinjauan/")
    page.locator(f"#report-{report.pk} button[name=decision][value=approve]").click()
    page.wait_for_load_state()
    assert page.locator(f"#report-{report.pk}").count() == 0
    report.refresh_from_db()
    assert report.status == "approved"

    # Back on the phone, the month's minutes have moved from waiting to approved.
    phone.reload()
    expect(phone.locator("#report-month")).to_contain_text(
        "105 menit disetujui, 0 menit menunggu atasan"
    )
    expect(first).to_have_text("Disetujui atasan (105 menit)")
    assert len(batches) == 1
    context.close()
