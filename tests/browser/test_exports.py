"""A requested export in real Chromium: the OPD operator presses "Unduh XLSX" on the recap,
lands on "Unduhan saya" with the export queued, the worker builds it, and the download is the
recap of her OPD."""

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.login import log_in
from tests.world import World

# Set TEPAT_SCREENSHOTS to a folder to look at the pages the browser tests saw.
SCREENSHOTS = os.environ.get("TEPAT_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_export_is_queued_built_by_the_worker_and_downloaded(
    page: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    log_in(page, live_server.url, "operator.dindik")
    page.goto(f"{live_server.url}/presensi/rekap/")
    page.click("form.export button[type=submit]")
    page.wait_for_url(f"{live_server.url}/unduhan/")
    expect(page.locator("ul.messages")).to_contain_text("Ekspor dimasukkan ke antrean")
    row = page.locator("#exports tbody tr").first
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("Rekap kehadiran (XLSX)")

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    page.reload()
    row = page.locator("#exports tbody tr").first
    expect(row).to_have_attribute("data-status", "done")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "unduhan-saya.png"), full_page=True)
    with page.expect_download() as download_info:
        row.locator("a", has_text="Unduh").click()
    download = download_info.value
    assert download.suggested_filename.startswith("rekap-kehadiran-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    rows = list(load_workbook(io.BytesIO(saved.read_bytes())).active.iter_rows(values_only=True))
    nips = {r[0] for r in rows[2:]}
    assert nips == {world.kadis.nip, world.principal.nip, world.teacher.nip, world.teacher2.nip}
