"""The short lane for a single check-in answers exactly what the full request cycle and the
django-ninja operation answer (status, body, headers), in two statements, and survives a
dropped database connection without the per-request health check."""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import RequestFactory, override_settings

from tepat.accounts.models import User
from tepat.audit.models import AuditEntry
from tepat.presence.checkin_lane import CheckinLaneApp
from tepat.presence.models import CheckinEvent
from tests.presence.phone import Phone, minutes_ago
from tests.world import PASSWORD, World

LANE = "tepat.presence.checkin_lane.CheckinLaneMiddleware"
SCHOOL = (-2.4233, 101.1667)
FAR = (-2.4233 + 0.0108, 101.1667)


@pytest.fixture
def phone(world: World) -> Phone:
    p = Phone()
    assert p.login(world.teacher.nip).status_code == 200
    return p


def _without_lane() -> Any:
    return override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != LANE])


def _answer(response: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = response.json()
    for volatile in ("server_time", "id", "taken_at"):
        body.pop(volatile, None)
    # Content-Length follows the body; Expires is the moment of the answer.
    headers = {
        k: "…" if k == "Expires" else v
        for k, v in response.headers.items()
        if k != "Content-Length"
    }
    return response.status_code, body, headers


def _twice(phone: Phone, make: Any, other: Phone | None = None) -> tuple[Any, Any]:
    """The same kind of request through the lane (from ``phone``) and through the full stack
    (from ``other``, or ``phone`` again)."""
    with_lane = make(phone)
    other = other or phone
    with _without_lane():
        other.client = type(other.client)()  # a client that loads the changed middleware
        without = make(other)
    return with_lane, without


@pytest.fixture
def colleague(world: World) -> Phone:
    """The teacher's colleague at the same school: the same answers, his own first check-in."""
    User.objects.create_user(
        username=world.teacher2.nip, password=PASSWORD, role="asn", employee=world.teacher2
    )
    p = Phone()
    assert p.login(world.teacher2.nip).status_code == 200
    return p


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.send(p.checkin(*SCHOOL)), id="accepted"),
        pytest.param(lambda p: p.send(p.checkin(*FAR)), id="outside"),
        pytest.param(lambda p: p.send({**p.checkin(*SCHOOL), "latitude": 91}), id="invalid"),
        pytest.param(lambda p: p.send({**p.checkin(*SCHOOL), "signature": "AAAA"}), id="unsigned"),
        pytest.param(lambda p: Phone().send(p.checkin(*SCHOOL)), id="no-token"),
        pytest.param(
            lambda p: p.client.post(
                "/api/v1/presence/checkins",
                "{not json",
                content_type="application/json",
                headers={"Authorization": f"Bearer {p.token}"},
            ),
            id="not-json",
        ),
    ],
)
def test_the_lane_answers_as_the_full_stack(
    world: World, phone: Phone, colleague: Phone, make: Any
) -> None:
    with_lane, without = _twice(phone, make, colleague)
    lane_answer, full_answer = _answer(with_lane), _answer(without)
    assert lane_answer[:2] == full_answer[:2]
    assert lane_answer[2] == full_answer[2]
    assert with_lane["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in with_lane
    assert with_lane["Content-Language"] == "id"


def test_a_replay_answers_as_the_full_stack(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    assert phone.send(item).status_code == 201
    with_lane, without = _twice(phone, lambda p: p.send(item))
    assert with_lane.status_code == 200
    assert _answer(with_lane) == _answer(without)
    assert CheckinEvent.objects.count() == 1


def test_english_is_answered_in_english(world: World, phone: Phone) -> None:
    response = phone.client.post(
        "/api/v1/presence/checkins",
        {**phone.checkin(*SCHOOL), "signature": "AAAA"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {phone.token}", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "The check-in is not signed by this phone's key."
    assert response["Content-Language"] == "en"


def test_a_check_in_is_one_read_and_one_insert(
    world: World, phone: Phone, django_assert_num_queries: Any
) -> None:
    assert phone.send(phone.checkin(*SCHOOL, taken_at=minutes_ago(30))).status_code == 201
    with django_assert_num_queries(2):  # the sites are cached now, as at the morning peak
        assert phone.send(phone.checkin(SCHOOL[0] + 0.0002, SCHOOL[1])).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_reopened_without_a_health_check(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: a server-side connection to drop")
    phone = Phone()
    assert phone.login(world.teacher.nip).status_code == 200
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 201
    pid = connection.connection.info.backend_pid
    import psycopg

    params = connection.get_connection_params()
    params.pop("context", None)
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    item = phone.checkin(SCHOOL[0] + 0.0001, SCHOOL[1], id=str(uuid.uuid4()))
    assert phone.send(item).status_code == 201
    assert CheckinEvent.objects.count() == 2


# --- The lane ahead of Django's request cycle (tepat.wsgi.application) -----------------------


@dataclass
class WsgiAnswer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def compared(self) -> tuple[str, Any, dict[str, str]]:
        """Status line, body and headers, without what differs between two answers."""
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body
        if isinstance(body, dict):
            for volatile in ("server_time", "id", "taken_at"):
                body.pop(volatile, None)
        names = [name for name, _value in self.headers]
        assert len(names) == len(set(names)), f"a header twice: {names}"
        headers = {
            name: "…" if name in {"Expires", "Content-Length"} else value
            for name, value in self.headers
        }
        return self.status, body, headers


class Counting:
    """A WSGI application that counts the requests it is handed."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.application(environ, start_response)


def _environ(
    method: str = "POST",
    path: str = "/api/v1/presence/checkins",
    body: bytes | str = b"",
    *,
    token: str = "",
    secure: bool = False,
    content_type: str = "application/json",
    **headers: str,
) -> dict[str, Any]:
    """The environ a WSGI server hands Tepat (Host and, with a token, Authorization)."""
    headers = {"Host": "testserver", **headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    factory = RequestFactory()
    if method in {"GET", "HEAD"}:
        request = factory.generic(method, path, secure=secure, headers=headers)
    else:
        request = factory.generic(
            method, path, body, content_type=content_type, secure=secure, headers=headers
        )
    environ = dict(request.environ)
    if not environ.get("HTTP_COOKIE"):
        environ.pop("HTTP_COOKIE", None)  # a server leaves it out when there is no cookie
    return environ


def _call(application: Any, environ: dict[str, Any]) -> WsgiAnswer:
    """Call a WSGI application as a server does. As Django's test client does, the
    connection is not closed between requests (the test's transaction lives on it)."""
    started: list[Any] = []
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, lambda status, headers, *_: started.append((status, headers)))
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    ((status, headers),) = started
    return WsgiAnswer(status, list(headers), body)


@pytest.fixture
def apps() -> tuple[CheckinLaneApp, Counting, WSGIHandler]:
    return _apps()


def _apps() -> tuple[CheckinLaneApp, Counting, WSGIHandler]:
    """The lane in front of Django's application, and Django's full cycle alone (the
    middleware lane left out as well)."""
    django_app = Counting(WSGIHandler())
    with _without_lane():
        full = WSGIHandler()
    return CheckinLaneApp(django_app), django_app, full


def _warm(lane: CheckinLaneApp, full: Any, phone: Phone, colleague: Phone, **environ: Any) -> None:
    """Each phone's first check-in: the lane learns its headers from Django's answer."""
    for app, p in ((lane, phone), (full, colleague)):
        item = p.checkin(SCHOOL[0] + 0.0003, SCHOOL[1], taken_at=minutes_ago(30))
        answer = _call(app, _environ(body=json.dumps(item), token=p.token, **environ))
        assert answer.code == 201, answer.body


LANE_CASES = [
    pytest.param(lambda p: json.dumps(p.checkin(*SCHOOL)), True, 201, id="accepted"),
    pytest.param(lambda p: json.dumps(p.checkin(*FAR)), True, 422, id="outside"),
    pytest.param(
        lambda p: json.dumps({**p.checkin(*SCHOOL), "signature": "AAAA"}), True, 422, id="unsigned"
    ),
    pytest.param(
        lambda p: json.dumps({**p.checkin(*SCHOOL), "latitude": 91}), False, 422, id="invalid"
    ),
    pytest.param(lambda p: "{not json", False, 400, id="not-json"),
    pytest.param(lambda p: "[]", False, 422, id="not-an-object"),
    pytest.param(
        lambda p: json.dumps({**p.checkin(*SCHOOL), "label": "a\u0000b"}), False, 400, id="nul"
    ),
]


@pytest.mark.parametrize(("make", "by_lane", "code"), LANE_CASES)
def test_the_wsgi_lane_answers_as_the_full_stack(
    world: World, phone: Phone, colleague: Phone, apps: Any, make: Any, by_lane: bool, code: int
) -> None:
    lane, django_app, full = apps
    _warm(lane, full, phone, colleague)
    assert django_app.calls == 1  # the first check-in, to learn the headers
    with_lane = _call(lane, _environ(body=make(phone), token=phone.token))
    without = _call(full, _environ(body=make(colleague), token=colleague.token))
    assert with_lane.code == code
    assert with_lane.compared() == without.compared()
    assert django_app.calls == (1 if by_lane else 2)
    if not by_lane:
        return
    headers = dict(with_lane.headers)
    assert headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in headers
    assert headers["Content-Language"] == "id"
    assert headers["Content-Length"] == str(len(with_lane.body))
    assert "no-store" in headers["Cache-Control"]


def test_the_wsgi_lane_stores_what_it_accepts_once(world: World, phone: Phone, apps: Any) -> None:
    lane, django_app, _full = apps
    first = phone.checkin(SCHOOL[0] + 0.0003, SCHOOL[1], taken_at=minutes_ago(30))
    assert _call(lane, _environ(body=json.dumps(first), token=phone.token)).code == 201
    item = phone.checkin(*SCHOOL)
    stored = _call(lane, _environ(body=json.dumps(item), token=phone.token))
    replayed = _call(lane, _environ(body=json.dumps(item), token=phone.token))
    assert (stored.code, replayed.code) == (201, 200)
    assert json.loads(replayed.body)["id"] == item["id"] == json.loads(stored.body)["id"]
    assert django_app.calls == 1  # the lane answered both
    event = CheckinEvent.objects.get(idempotency_key=item["id"])
    assert event.status == CheckinEvent.Status.ACCEPTED
    assert CheckinEvent.objects.count() == 2


def test_a_replay_through_the_wsgi_lane_answers_as_the_full_stack(
    world: World, phone: Phone, colleague: Phone, apps: Any
) -> None:
    lane, django_app, full = apps
    _warm(lane, full, phone, colleague)
    answers = []
    for app, p in ((lane, phone), (full, colleague)):
        item = p.checkin(*SCHOOL)
        assert _call(app, _environ(body=json.dumps(item), token=p.token)).code == 201
        answers.append(_call(app, _environ(body=json.dumps(item), token=p.token)))
    assert answers[0].code == 200
    assert answers[0].compared() == answers[1].compared()
    assert django_app.calls == 1


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        pytest.param(lambda p, body: _environ(body=body), 401, id="no-token"),
        pytest.param(lambda p, body: _environ(body=body, token="not-a-token"), 401, id="bad-token"),
        pytest.param(
            lambda p, body: _environ(body=body, token=p.token, Host="evil.example"),
            400,
            id="wrong-host",
        ),
        pytest.param(lambda p, body: _environ("GET", token=p.token), 405, id="get"),
        pytest.param(lambda p, body: _environ("HEAD", token=p.token), 405, id="head"),
        pytest.param(
            lambda p, body: _environ(body=body, token=p.token, Cookie="sessionid=x"),
            201,
            id="cookie",
        ),
        pytest.param(
            lambda p, body: {**_environ(body=body, token=p.token), "QUERY_STRING": "a=b"},
            201,
            id="query-string",
        ),
        pytest.param(
            lambda p, body: _environ(body=body, token=p.token, content_type="text/plain"),
            201,
            id="not-json-content-type",
        ),
    ],
)
def test_what_the_wsgi_lane_does_not_answer_goes_to_django(
    world: World, phone: Phone, colleague: Phone, apps: Any, environ: Any, code: int
) -> None:
    lane, django_app, full = apps
    _warm(lane, full, phone, colleague)
    with_lane = _call(lane, environ(phone, json.dumps(phone.checkin(*SCHOOL))))
    without = _call(full, environ(colleague, json.dumps(colleague.checkin(*SCHOOL))))
    assert django_app.calls == 2
    assert with_lane.code == code
    assert with_lane.compared() == without.compared()


def test_the_wsgi_lane_answers_in_the_language_asked_for(
    world: World, phone: Phone, colleague: Phone, apps: Any
) -> None:
    lane, django_app, full = apps
    _warm(lane, full, phone, colleague, **{"Accept-Language": "en"})
    answers = [
        _call(
            app,
            _environ(
                body=json.dumps({**p.checkin(*SCHOOL), "signature": "AAAA"}),
                token=p.token,
                **{"Accept-Language": "en"},
            ),
        )
        for app, p in ((lane, phone), (full, colleague))
    ]
    assert django_app.calls == 1
    assert (
        json.loads(answers[0].body)["detail"] == "The check-in is not signed by this phone's key."
    )
    assert dict(answers[0].headers)["Content-Language"] == "en"
    assert answers[0].compared() == answers[1].compared()


def test_over_https_the_wsgi_lane_sends_what_django_sends(
    world: World, phone: Phone, colleague: Phone
) -> None:
    with override_settings(SECURE_HSTS_SECONDS=3600):
        lane, django_app, full = _apps()  # the middleware reads the setting when built
        _warm(lane, full, phone, colleague, secure=True)
        answers = [
            _call(app, _environ(body=json.dumps(p.checkin(*SCHOOL)), token=p.token, secure=True))
            for app, p in ((lane, phone), (full, colleague))
        ]
    assert django_app.calls == 1
    assert dict(answers[0].headers)["Strict-Transport-Security"] == "max-age=3600"
    assert answers[0].compared() == answers[1].compared()


def test_a_selfie_goes_through_the_full_stack(world: World, phone: Phone, apps: Any) -> None:
    """A refused selfie is written to the audit trail by middleware the lanes run ahead of."""
    lane, django_app, _full = apps
    first = phone.checkin(SCHOOL[0] + 0.0003, SCHOOL[1], taken_at=minutes_ago(30))
    assert _call(lane, _environ(body=json.dumps(first), token=phone.token)).code == 201
    item = phone.checkin(*SCHOOL, selfie_bytes=b"not an image")
    answer = _call(lane, _environ(body=json.dumps(item), token=phone.token))
    assert answer.code == 422
    assert django_app.calls == 2
    assert AuditEntry.objects.filter(action="refused.upload").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_wsgi_lane_closes_a_connection_past_its_age(world: World) -> None:
    """The lane sends request_started/request_finished as Django's handler does, so a
    connection that outlived CONN_MAX_AGE is replaced by a new one, not used for ever."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: a persistent connection to age")
    phone = Phone()
    assert phone.login(world.teacher.nip).status_code == 200
    django_app = Counting(WSGIHandler())
    lane = CheckinLaneApp(django_app)

    def send(item: dict[str, Any]) -> WsgiAnswer:
        started: list[Any] = []
        environ = _environ(body=json.dumps(item), token=phone.token)
        result = lane(environ, lambda status, headers, *_: started.append((status, headers)))
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        return WsgiAnswer(started[0][0], list(started[0][1]), body)

    first = phone.checkin(SCHOOL[0] + 0.0003, SCHOOL[1], taken_at=minutes_ago(30))
    assert send(first).code == 201  # through Django: the lane learns the headers
    connection.ensure_connection()
    aged = connection.connection.info.backend_pid
    connection.close_at = time.monotonic() - 1  # as if CONN_MAX_AGE had passed
    assert send(phone.checkin(*SCHOOL)).code == 201
    assert django_app.calls == 1  # the lane answered
    assert connection.connection.info.backend_pid != aged
    kept = connection.connection.info.backend_pid
    assert send(phone.checkin(SCHOOL[0] + 0.0001, SCHOOL[1])).code == 201
    assert connection.connection.info.backend_pid == kept  # within its age: kept
    assert CheckinEvent.objects.count() == 3
