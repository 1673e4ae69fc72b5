"""A teacher asks for a day of izin with a letter; her principal approves it from the queue."""

from pathlib import Path
from typing import Any

import pytest

from tepat.presence.models import AbsenceRequest
from tests.browser.login import log_in
from tests.world import World

# serialized_rollback: the flush after each test then keeps the content types that the
# serialized_rollback tests of this folder restore (else their pks clash).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_izin_filed_by_the_teacher_is_approved_by_the_principal(
    page: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    letter = tmp_path / "surat.pdf"
    letter.write_bytes(b"%PDF-1.4\n1 0 obj\nendobj\n%%EOF\n")
    log_in(page, live_server.url, world.teacher.nip)
    page.click("nav >> text=Cuti & izin")
    page.click("text=Pengajuan baru")
    page.select_option("#id_type", "dinas_luar")
    page.fill("#id_first_day", "2026-12-01")
    page.fill("#id_reason", "Rapat MGMP di kabupaten")
    page.set_input_files("#id_evidence", str(letter))
    page.click("text=Kirim untuk disetujui")
    assert page.locator("#status").inner_text() == "Menunggu persetujuan"

    page.context.clear_cookies()
    log_in(page, live_server.url, world.principal.nip)
    page.goto(f"{live_server.url}/presensi/ajuan/persetujuan/")
    row = page.locator("tr", has_text=world.teacher.name)
    assert "Dinas luar" in row.inner_text()
    row.locator("input[type=checkbox]").check()
    page.click("text=Setujui yang dipilih")
    assert "1 pengajuan telah diputuskan." in page.locator("body").inner_text()
    assert AbsenceRequest.objects.get().status == "approved"
