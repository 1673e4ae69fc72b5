"""The phone app (PWA) as a teacher uses it, in real Chromium against the live server: log in,
check in at school, be refused far away, go to review from a second phone, check in with no
signal and see it sent later (by the page, or by Background Sync with the app closed), retry
after a lost answer without storing anything twice, and keep the queue across an ended login."""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.world import PASSWORD, World

# serialized_rollback: the default presence policy comes from a data migration, which the
# flush after each transactional test would otherwise wipe.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCHOOL = (-2.4233, 101.1667)  # SD Negeri 01 Lubuk Pinang, radius 100 m
FAR = (-2.412508, 101.1667)  # 1.2 km north of the school, 12 km from the Dinas office


@pytest.fixture
def phone(browser: Any) -> Iterator[Callable[..., Any]]:
    """A cheap phone's screen (360×640) at a position, with location allowed; one fresh
    browser profile (IndexedDB, service worker, device key) per call."""
    contexts: list[Any] = []

    def make(position: tuple[float, float], **options: Any) -> Any:
        context = browser.new_context(
            geolocation={"latitude": position[0], "longitude": position[1], "accuracy": 12},
            permissions=["geolocation"],
            locale="id-ID",
            timezone_id="Asia/Jakarta",
            viewport={"width": 360, "height": 640},
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def _log_in(page: Any, base: str, world: World, password: str = PASSWORD) -> None:
    page.goto(f"{base}/app/")
    page.fill("#nip", world.teacher.nip)
    page.fill("#password", password)
    page.click("#login-submit")


def _events(world: World) -> list[Any]:
    from tepat.presence.models import CheckinEvent

    return list(CheckinEvent.objects.filter(employee=world.teacher))


def _events_soon(world: World, page: Any) -> list[Any]:
    """The events once some exist, waiting up to 10 s; the in-memory SQLite shared by the
    live server locks a table while the other thread writes to it."""
    from django.db import OperationalError

    for _ in range(100):
        try:
            found = _events(world)
        except OperationalError:
            found = []
        if found:
            return found
        page.wait_for_timeout(100)
    return _events(world)


def _latest(page: Any) -> Any:
    """The newest check-in in the phone's queue list."""
    return page.locator("#queue li.q").first


def test_teacher_checks_in_at_school_and_sees_it_accepted(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(SCHOOL)
    _log_in(page, live_server.url, world)
    expect(page.locator("#who")).to_contain_text(world.teacher.nip)
    # The local hint (haversine to the nearest site) before pressing anything.
    expect(page.locator("#dist")).to_contain_text("SD Negeri 01 Lubuk Pinang: 0 m")

    page.click("#btn-in")

    expect(_latest(page).locator(".q-state")).to_have_text("Diterima")
    expect(_latest(page).locator(".q-kind")).to_have_text("Absen Masuk")
    (event,) = _events(world)
    assert event.status == "accepted"
    assert event.kind == "in"
    assert event.idempotency_key == _latest(page).get_attribute("data-id")
    assert event.risk_flags == []  # signed by the bound key, fresh fix, clock anchored
    assert event.payload["seq"] == 1
    assert event.payload["clock"] is not None  # anchored by the login's server_time
    # The server's record of the day reaches the screen.
    expect(page.locator("#today-events li")).to_contain_text("Diterima")
    expect(page.locator("#month tbody tr")).to_have_count(1)
    expect(page.locator("#month tbody td").nth(1)).to_have_text(re.compile(r"^\d\d:\d\d$"))
    # Usable on a 360 px screen: no sideways scrolling, thumb-sized buttons.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("#btn-in").bounding_box()["height"] >= 48


def test_far_from_school_is_refused_with_the_distance_shown(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(FAR)
    _log_in(page, live_server.url, world)
    expect(page.locator("#dist")).to_contain_text("di luar area")

    page.click("#btn-in")

    state = _latest(page).locator(".q-state")
    expect(state).to_contain_text("Ditolak: ")
    expect(state).to_contain_text("batas 100 m")
    expect(state).to_contain_text("1,2 km")
    (event,) = _events(world)
    assert event.status == "refused"  # the attempt is kept, not dropped
    assert event.idempotency_key == _latest(page).get_attribute("data-id")


def test_a_second_phone_checks_in_into_review_with_the_reason_shown(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    first = phone(SCHOOL)
    _log_in(first, live_server.url, world)
    expect(first.locator("#who")).to_contain_text(world.teacher.nip)
    expect(first.locator("#month-age")).to_contain_text("Data server per")
    second = phone(SCHOOL)  # another browser profile: another device key
    _log_in(second, live_server.url, world)
    expect(second.locator("#device-note")).to_contain_text("belum disetujui")

    second.click("#btn-in")

    expect(_latest(second).locator(".q-state")).to_have_text("Perlu ditinjau atasan")
    expect(_latest(second).locator(".q-why")).to_contain_text("Perangkat belum disetujui")
    (event,) = _events(world)
    assert event.status == "review"
    assert event.risk_flags == ["device_not_approved"]


def test_offline_check_in_survives_a_reload_and_is_sent_once_when_back_online(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(SCHOOL)
    _log_in(page, live_server.url, world)
    expect(page.locator("#who")).to_contain_text(world.teacher.nip)
    page.wait_for_selector("html[data-offline-ready]", state="attached")  # shell cached
    page.context.set_offline(True)

    page.click("#btn-in")

    expect(_latest(page).locator(".q-state")).to_have_text("Menunggu dikirim")
    expect(page.locator("#offline-banner")).to_be_visible()
    checkin_id = _latest(page).get_attribute("data-id")
    assert _events(world) == []

    # Offline emulation covers the service worker's own requests too, so the reload below
    # can only be answered from its cache.
    worker = page.context.service_workers[0]
    assert worker.evaluate("fetch('/healthz').then(() => 'network', () => 'none')") == "none"
    # With no connection the service worker serves the app; the queue comes from IndexedDB.
    response = page.reload()
    assert response is not None
    assert response.from_service_worker
    expect(_latest(page).locator(".q-state")).to_have_text("Menunggu dikirim")
    assert _latest(page).get_attribute("data-id") == checkin_id
    assert _events(world) == []

    page.context.set_offline(False)  # the `online` event flushes the queue

    expect(_latest(page).locator(".q-state")).to_have_text("Diterima")
    (event,) = _events(world)
    assert event.idempotency_key == checkin_id
    assert event.status == "accepted"
    # Captured offline, then sent: the payload still carries the moment of the press.
    assert event.device_taken_at < event.received_at


def test_a_lost_answer_is_retried_and_stored_only_once(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    # page.route cannot see requests a service worker makes, so this phone runs without one.
    page = phone(SCHOOL, service_workers="block")
    sent: list[list[str]] = []

    def lose_first_answer(route: Any) -> None:
        sent.append([item["id"] for item in json.loads(route.request.post_data)["items"]])
        response = route.fetch()  # the request reaches the server and is stored...
        if len(sent) == 1:
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/presence/checkins/batch", lose_first_answer)
    beats: list[int] = []

    def heartbeat(route: Any) -> None:
        beats.append(json.loads(route.request.post_data)["queued"])
        route.continue_()

    page.route("**/api/v1/phone/heartbeat", heartbeat)
    _log_in(page, live_server.url, world)
    expect(page.locator("#who")).to_contain_text(world.teacher.nip)

    page.click("#btn-in")

    expect(_latest(page).locator(".q-state")).to_have_text("Menunggu dikirim")
    expect(_latest(page).locator(".q-why")).to_contain_text("tidak ada koneksi")
    assert len(_events(world)) == 1  # the server has it; the phone does not know yet

    # No button pressed: the back-off timer retries on its own within a few seconds.
    expect(_latest(page).locator(".q-state")).to_have_text("Diterima", timeout=15_000)
    checkin_id = _latest(page).get_attribute("data-id")
    assert sent[:2] == [[checkin_id], [checkin_id]]  # the same id, sent twice
    (event,) = _events(world)
    assert event.idempotency_key == checkin_id
    assert event.status == "accepted"
    # The phone told the server of the check-in waiting on it, then that nothing waits.
    assert 1 in beats
    assert _heartbeat_soon(world, page, queued=0) == 0


def _heartbeat_soon(world: World, page: Any, queued: int) -> int | None:
    """The teacher's phone's last reported queue once it is ``queued``, waiting up to 10 s."""
    from django.db import OperationalError

    from tepat.monitor.models import PhoneHeartbeat

    found = None
    for _ in range(100):
        try:
            found = (
                PhoneHeartbeat.objects.filter(employee=world.teacher)
                .values_list("queued", flat=True)
                .first()
            )
        except OperationalError:
            found = None
        if found == queued:
            break
        page.wait_for_timeout(100)
    return found


def test_with_the_app_closed_background_sync_sends_the_queue(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(SCHOOL)
    _log_in(page, live_server.url, world)
    expect(page.locator("#who")).to_contain_text(world.teacher.nip)
    page.wait_for_selector("html[data-offline-ready]", state="attached")
    context = page.context
    context.set_offline(True)
    page.click("#btn-in")
    expect(_latest(page).locator(".q-state")).to_have_text("Menunggu dikirim")
    checkin_id = _latest(page).get_attribute("data-id")

    # The teacher closes the app; the signal comes back later (Chrome on Android).
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    blank.wait_for_timeout(300)
    page.close()
    context.set_offline(False)
    assert _events(world) == []
    (registration,) = [r for r in registrations if not r["isDeleted"]]
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": live_server.url,
            "registrationId": registration["registrationId"],
            "tag": "tepat-flush",
            "lastChance": False,
        },
    )

    (event,) = _events_soon(world, blank)
    assert (event.idempotency_key, event.status) == (checkin_id, "accepted")
    # The worker also recorded the answer on the phone: the reopened app has nothing to send.
    again = context.new_page()
    batches: list[str] = []
    again.on("request", lambda r: batches.append(r.url) if r.url.endswith("/batch") else None)
    again.goto(f"{live_server.url}/app/")
    expect(_latest(again).locator(".q-state")).to_have_text("Diterima")
    expect(again.locator("#queue-note")).to_contain_text("sudah dijawab server")
    assert batches == []


def test_an_ended_login_keeps_the_check_in_until_she_logs_in_again(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    from django.utils import timezone

    from tepat.presence.models import AppToken

    page = phone(SCHOOL)
    _log_in(page, live_server.url, world)
    expect(page.locator("#month-age")).to_contain_text("Data server per")  # server now idle
    AppToken.objects.update(expires_at=timezone.now())  # the server answers 401 from now on

    page.click("#btn-in")

    expect(_latest(page).locator(".q-state")).to_have_text("Menunggu dikirim")
    expect(_latest(page).locator(".q-why")).to_have_text("Perlu masuk lagi untuk mengirim")
    expect(page.locator("#login-reason")).to_contain_text("Sesi Anda berakhir")
    assert _events(world) == []
    expect(page.locator("#nip")).to_have_value(world.teacher.nip)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")

    expect(_latest(page).locator(".q-state")).to_have_text("Diterima")
    expect(page.locator("#login")).to_be_hidden()
    (event,) = _events(world)
    assert event.idempotency_key == _latest(page).get_attribute("data-id")
    assert event.status == "accepted"  # the same phone key: no new device to approve


def test_wrong_password_is_refused_in_indonesian(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(SCHOOL)
    _log_in(page, live_server.url, world, password="salah-sekali-ini")
    expect(page.locator("#login-error")).to_have_text("NIP atau kata sandi salah.")
    expect(page.locator("#home")).to_be_hidden()


def test_the_app_is_installable_with_its_own_scope(
    phone: Callable[..., Any], live_server: Any, world: World
) -> None:
    page = phone(SCHOOL)
    page.goto(f"{live_server.url}/app/")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{live_server.url}/app/"
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.request.get(f"{live_server.url}{href}")
    body = manifest.json()
    assert body["name"] == "Tepat — Presensi ASN"
    assert (body["start_url"], body["scope"], body["display"]) == ("/app/", "/app/", "standalone")
    for icon in body["icons"]:
        assert page.request.get(f"{live_server.url}{icon['src']}").headers["content-type"] == (
            "image/png"
        )
