"""The web shell as a person uses it: log in, land on the home page of one's role."""

from typing import Any

import pytest

from tests.browser.login import log_in
from tests.world import PASSWORD, World

# serialized_rollback: the flush after each test then keeps the content types that the
# serialized_rollback tests of this folder restore (else their pks clash).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_operator_logs_in_and_sees_only_their_opd(
    page: Any, live_server: Any, world: World
) -> None:
    log_in(page, live_server.url, "operator.dindik", PASSWORD)
    summary = page.locator("#org-summary")
    assert "OPD saya" in summary.inner_text()
    assert summary.locator(".tile strong").first.inner_text() == "4"  # the Dinas Pendidikan staff
    page.click("text=Pegawai >> nth=0")
    table = page.locator("table.list").inner_text()
    assert world.teacher.name in table
    assert world.nurse.name not in table


def test_wrong_password_is_refused_in_indonesian(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server.url, "operator.dindik", "salah-sekali")
    assert page.locator("p.error").inner_text().startswith("Nama pengguna atau kata sandi salah")
    assert page.url.endswith("/akun/masuk/")


def test_teacher_sees_where_she_may_check_in(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server.url, world.teacher.nip, PASSWORD)
    profile = page.locator("#my-profile").inner_text()
    assert world.school_site.name in profile
    assert world.office_site.name in profile  # the Dinas Pendidikan office is her alternative
    assert "Kepala" not in page.locator("nav").inner_text()


def test_language_switch_to_english(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server.url, "bkpsdm", PASSWORD)
    assert "Seluruh kabupaten" in page.locator("#org-summary h2").inner_text()
    page.click("button[name=language][value=en]")
    assert page.locator("#org-summary h2").inner_text() == "The whole regency"
