"""Every kind of page Tepat serves works in real Chromium under the strict Content Security
Policy: the login pages, the home page, the /org/ pages (with the site-fix geolocation
button), the Django admin, the API docs (Swagger UI) and the phone app. A violation would
show up as a ``securitypolicyviolation`` event, a console message or a page error; there must
be none. The last test proves the watch catches a violation when there is one."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.login import log_in
from tests.world import PASSWORD, World

# serialized_rollback: the phone app needs the presence policy from a data migration.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCHOOL = (-2.4233, 101.1667)

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@dataclass
class Watched:
    page: Any
    problems: list[str] = field(default_factory=list)

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        assert response.status == 200, url
        assert "Content-Security-Policy" in {k.title() for k in response.headers}
        self.page.wait_for_load_state("load")

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == []
        assert self.problems == []


def _is_csp_message(text: str) -> bool:
    lowered = text.lower()
    return "content security policy" in lowered or "content-security-policy" in lowered


@pytest.fixture
def watched(browser: Any) -> Iterator[Callable[[], Watched]]:
    contexts: list[Any] = []

    def make() -> Watched:
        context = browser.new_context(
            locale="id-ID",
            timezone_id="Asia/Jakarta",
            geolocation={"latitude": SCHOOL[0], "longitude": SCHOOL[1], "accuracy": 8},
            permissions=["geolocation"],
        )
        contexts.append(context)
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(15_000)
        watch = Watched(page)
        page.on(
            "console",
            lambda msg: (
                watch.problems.append(f"console {msg.type}: {msg.text}")
                if _is_csp_message(msg.text)
                else None
            ),
        )
        page.on("pageerror", lambda exc: watch.problems.append(f"page error: {exc}"))
        return watch

    yield make
    for context in contexts:
        context.close()


def _log_in(watch: Watched, base: str, username: str) -> None:
    log_in(watch.page, base, username)
    expect(watch.page.locator("nav")).to_be_visible()


def test_login_pages_obey_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    watch = watched()
    watch.visit(f"{live_server.url}/akun/masuk/")
    watch.visit(f"{live_server.url}/admin/login/")
    watch.visit(f"{live_server.url}/.well-known/security.txt")
    watch.assert_clean()


def test_home_and_org_pages_obey_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    watch = watched()
    base = live_server.url
    _log_in(watch, base, "admin")
    expect(watch.page.locator("#org-summary")).to_be_visible()
    watch.visit(f"{base}/org/pegawai/")
    watch.visit(f"{base}/org/pegawai/{world.teacher.pk}/")
    watch.visit(f"{base}/org/lokasi/")
    watch.visit(f"{base}/org/lokasi/{world.school_site.pk}/")
    # site-locate.js reads the position: allowed by Permissions-Policy geolocation=(self).
    watch.page.click("#use-my-position")
    expect(watch.page.locator("#position-status")).to_contain_text("8")
    expect(watch.page.locator("#id_latitude")).to_have_value("-2.423300")
    watch.visit(f"{base}/presensi/tinjauan/")
    watch.visit(f"{base}/presensi/perangkat/")
    watch.assert_clean()


def test_the_admin_obeys_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    watch = watched()
    base = live_server.url
    _log_in(watch, base, "admin")
    for path in [
        "/admin/",
        "/admin/org/employee/",
        f"/admin/org/employee/{world.teacher.pk}/change/",
        "/admin/org/employee/impor/",
        f"/admin/accounts/user/{world.users['operator_opd'].pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/axes/accessattempt/",
        "/admin/audit/auditentry/",
    ]:
        watch.visit(f"{base}{path}")
    # The admin's own scripts ran: the change list's select-all box and the filter sidebar.
    watch.visit(f"{base}/admin/org/employee/")
    watch.page.check("#action-toggle")
    expect(watch.page.locator(".action-counter")).to_contain_text("6")
    watch.assert_clean()


def test_the_api_docs_obey_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    watch = watched()
    base = live_server.url
    _log_in(watch, base, "bkpsdm")
    watch.visit(f"{base}/api/v1/docs")
    # Swagger UI fetched the schema and drew the operations.
    expect(watch.page.locator(".swagger-ui .info .title")).to_contain_text("Tepat API")
    expect(watch.page.locator(".opblock").first).to_be_visible()
    watch.page.locator(".opblock-summary").first.click()
    expect(watch.page.locator(".opblock-body").first).to_be_visible()
    watch.assert_clean()


def test_the_phone_app_obeys_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    watch = watched()
    watch.visit(f"{live_server.url}/app/")
    watch.page.fill("#nip", world.teacher.nip)
    watch.page.fill("#password", PASSWORD)
    watch.page.click("#login-submit")
    expect(watch.page.locator("#who")).to_contain_text(world.teacher.nip)
    expect(watch.page.locator("#dist")).to_contain_text("SD Negeri 01 Lubuk Pinang")
    # The service worker registered under worker-src 'self'.
    assert watch.page.evaluate(
        """async () => {
          for (let i = 0; i < 100; i++) {
            if (await navigator.serviceWorker.getRegistration("/app/")) return true;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return false;
        }"""
    )
    watch.assert_clean()


def test_a_violation_is_caught_when_there_is_one(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    """The watch is not blind: an inline style attribute and a foreign image are refused
    and reported."""
    watch = watched()
    watch.visit(f"{live_server.url}/akun/masuk/")
    watch.page.evaluate(
        """() => {
          document.body.insertAdjacentHTML('beforeend',
            '<p style="color: red">x</p><img src="https://judi.example/slot.png">');
        }"""
    )
    watch.page.wait_for_function("window.__cspViolations.length >= 2")
    violations = watch.page.evaluate("window.__cspViolations")
    assert any(v.startswith("style-src") for v in violations), violations
    assert any(v.startswith("img-src") for v in violations), violations
    assert any("Content Security Policy" in p for p in watch.problems), watch.problems


def test_the_two_step_setup_page_obeys_the_policy(
    watched: Callable[[], Watched], live_server: Any, world: World
) -> None:
    """The QR code is an SVG drawn by Tepat in a data: URI; the browser shows it."""
    watch = watched()
    watch.visit(f"{live_server.url}/akun/masuk/")
    watch.page.fill("#id_username", "operator.dindik")
    watch.page.fill("#id_password", PASSWORD)
    watch.page.click("button[type=submit].primary")
    expect(watch.page.locator("#mfa-enrol img.qr")).to_be_visible()
    assert watch.page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    watch.assert_clean()
