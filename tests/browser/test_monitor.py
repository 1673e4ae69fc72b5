"""BKPSDM's dashboard in real Chromium: a check-in that arrives while the page is open shows
up in the numbers without a reload, under the strict Content Security Policy."""

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from tests.browser.login import log_in
from tests.world import World, world_schedules_save

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIB = ZoneInfo("Asia/Jakarta")
# Set TEPAT_SCREENSHOTS to a folder to look at the pages the browser tests saw.
SCREENSHOTS = os.environ.get("TEPAT_SCREENSHOTS", "")
MONDAY_MORNING = datetime(2026, 11, 23, 7, 45, tzinfo=WIB)

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


def _screenshot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def _check_in(world: World, at: datetime) -> None:
    from tepat.presence.models import CheckinEvent

    CheckinEvent.objects.create(
        idempotency_key="browser-monitor-1",
        employee=world.teacher,
        kind="in",
        taken_at=at,
        received_at=at,
        source="phone",
        status="accepted",
        site=world.school_site,
    )


def test_the_dashboard_counts_a_check_in_without_reloading(
    browser: Any, live_server: Any, world: World, settings: Any
) -> None:
    settings.TEPAT_MONITOR_POLL_MS = 1000
    settings.TEPAT_MONITOR_REFRESH_S = 1  # the dashboard's copy of the ledger follows quickly
    with time_machine.travel(MONDAY_MORNING, tick=True):
        world_schedules_save(world)
        context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta")
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            log_in(page, live_server.url, "bkpsdm")
            page.goto(f"{live_server.url}/pantau/")

            checked_in = page.locator(f'[data-cell="opd-{world.dindik.pk}-checked_in"]')
            not_yet = page.locator(f'[data-cell="opd-{world.dindik.pk}-not_yet"]')
            total = page.locator('[data-cell="all-total-checked_in"]')
            expect(checked_in).to_have_text("0")
            expect(not_yet).to_have_text("4")
            page.evaluate("window.__sameDocument = true")
            stamp = page.locator("#live-updated").inner_text()

            _check_in(world, MONDAY_MORNING.replace(hour=6, minute=55))

            expect(checked_in).to_have_text("1")
            expect(not_yet).to_have_text("3")
            expect(total).to_have_text("1")
            assert page.evaluate("window.__sameDocument") is True  # no reload happened
            assert page.locator("#live-updated").inner_text() != stamp
            expect(page.locator("#live-state")).to_be_hidden()
            assert page.evaluate("window.__cspViolations") == []
            assert errors == []
        finally:
            context.close()


def test_the_trend_chart_the_queues_and_the_sanction_form_obey_the_policy(
    browser: Any, live_server: Any, world: World
) -> None:
    """The trend chart is inline SVG drawn with attributes only: it renders at full width and
    the strict CSP reports nothing; so do the review overview and the sanction form."""
    from datetime import date

    from tests.monitor.days import verdicts

    verdicts(world.teacher2, [date(2026, 10, 5), date(2026, 11, 2), date(2026, 11, 3)])
    context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta")
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, live_server.url, "bkpsdm")
        page.goto(f"{live_server.url}/pantau/tren/")
        chart = page.locator("#trend-chart")
        expect(chart).to_be_visible()
        assert chart.bounding_box()["width"] > 300
        expect(page.locator('#trend-chart [data-series="tk"] circle')).not_to_have_count(0)
        _screenshot(page, "trends.png")
        page.goto(f"{live_server.url}/pantau/antrean/")
        expect(page.locator("#review-backlog")).to_be_visible()
        page.goto(f"{live_server.url}/pantau/disiplin/{world.teacher2.pk}/hukuman/")
        expect(page.locator("#sanction-form")).to_be_visible()
        _screenshot(page, "sanction.png")
        assert page.evaluate("window.__cspViolations") == []
        assert errors == []
    finally:
        context.close()
