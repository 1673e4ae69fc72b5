"""Any node serves any request: a flow started on one Tepat node goes on on the other.

Two production nodes share one PostgreSQL database behind nginx (conftest.py). Nothing a
later request needs may live in one node's memory: the session and its second factor, the
phone's token, the ledger's idempotency, the login-failure count and the task queue.
"""

import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import Role, User
from tepat.presence.models import AttendanceDay, CheckinEvent
from tests.presence.phone import Phone
from tests.scale.conftest import ROOT, Nodes
from tests.world import PASSWORD, World, mfa_device, totp_code

pytestmark = pytest.mark.usefixtures("schedules")
SCHOOL = (-2.423300, 101.166700)  # the world's school site


def _production_password(*users: User) -> None:
    """The nodes run the production hasher; the test process's fast one is not among theirs."""
    encoded = PBKDF2PasswordHasher().encode(PASSWORD, "garamuji" + "x" * 16)
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=encoded)


def _node(response: requests.Response) -> str:
    node = response.headers.get("X-Tepat-Node", "")
    assert node, f"no node named for {response.url}: {response.status_code}"
    return node


def _form_token(response: requests.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, f"no form on {response.url}"
    return match.group(1)


class Trail:
    """The nodes that answered, in order."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes
        self.seen: list[str] = []

    def __call__(self, response: requests.Response) -> requests.Response:
        self.seen.append(_node(response))
        return response

    def alternated(self) -> bool:
        pairs = zip(self.seen, self.seen[1:], strict=False)
        return len(set(self.seen)) == 2 and all(a != b for a, b in pairs)


def test_a_staff_login_and_its_second_factor_hold_on_the_other_node(
    two_nodes: Nodes, world: World
) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    _production_password(operator)
    mfa_device(operator)
    web, trail, base = two_nodes.session(), Trail(two_nodes), two_nodes.base

    page = trail(web.get(f"{base}/akun/masuk/"))
    login = trail(
        web.post(
            f"{base}/akun/masuk/",
            {
                "username": operator.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": _form_token(page),
            },
            allow_redirects=False,
        )
    )
    assert login.status_code == 302
    # The half-finished login (password yes, code not yet) is in the shared session: the
    # other node knows the user and asks for the code before the recap.
    asked = trail(web.get(f"{base}/presensi/rekap/", allow_redirects=False))
    assert asked.status_code == 302
    assert "/akun/mfa/verifikasi/" in asked.headers["Location"]
    verify_page = trail(web.get(f"{base}/akun/mfa/verifikasi/"))
    assert verify_page.status_code == 200
    verified = trail(
        web.post(
            f"{base}/akun/mfa/verifikasi/",
            {
                "code": totp_code(operator),
                "next": "/presensi/rekap/",
                "csrfmiddlewaretoken": _form_token(verify_page),
            },
            allow_redirects=False,
        )
    )
    assert verified.status_code == 302, verified.text[:500]
    recap = trail(web.get(f"{base}/presensi/rekap/", allow_redirects=False))
    assert recap.status_code == 200
    assert world.teacher.full_name in recap.text  # the operator's own OPD, past both steps
    assert trail.alternated(), trail.seen


def test_a_phone_logs_in_on_one_node_and_checks_in_on_both(two_nodes: Nodes, world: World) -> None:
    _production_password(world.users[Role.ASN])
    api, trail, base = two_nodes.session(), Trail(two_nodes), two_nodes.base
    phone = Phone()
    token = trail(
        api.post(
            f"{base}/api/v1/auth/token",
            json={
                "nip": world.teacher.nip,
                "password": PASSWORD,
                "device": {"public_key": phone.public_key, "label": "Tes"},
            },
        )
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    now = timezone.now()
    items = [
        # Yesterday's, sent from the offline queue: its day is rebuilt by a background task.
        phone.checkin(*SCHOOL, kind="in", taken_at=now - timedelta(days=1, minutes=5)),
        phone.checkin(*SCHOOL, kind="out", taken_at=now - timedelta(days=1)),
        phone.checkin(*SCHOOL, kind="in", taken_at=now - timedelta(minutes=3)),
    ]
    for item in items:
        sent = trail(api.post(f"{base}/api/v1/presence/checkins", json=item, headers=auth))
        assert sent.status_code == 201, sent.text
    # The phone did not hear the last answer and sends it again: the other node knows it.
    again = trail(api.post(f"{base}/api/v1/presence/checkins", json=items[-1], headers=auth))
    assert again.status_code == 200, again.text
    assert trail.alternated(), trail.seen

    ledger = CheckinEvent.objects.filter(employee=world.teacher)
    assert sorted(str(e.payload["id"]) for e in ledger) == sorted(i["id"] for i in items)


def test_failed_logins_on_both_nodes_add_up_to_one_lockout(two_nodes: Nodes, world: World) -> None:
    other = world.users["operator_other"]
    _production_password(other)
    web, trail, base = two_nodes.session(), Trail(two_nodes), two_nodes.base
    token = _form_token(web.get(f"{base}/akun/masuk/"))

    def attempt(password: str) -> requests.Response:
        return trail(
            web.post(
                f"{base}/akun/masuk/",
                {"username": other.username, "password": password, "csrfmiddlewaretoken": token},
            )
        )

    for _ in range(4):
        assert attempt("salah-" + PASSWORD).status_code == 200  # the form: wrong password
    # Two failures on each node so far; the fifth locks the account from this address.
    assert attempt("salah-" + PASSWORD).status_code == 429
    assert trail.alternated(), trail.seen
    # Even the right password is refused now, on either node: one count, not one per node.
    locked = attempt(PASSWORD)
    assert locked.status_code == 429
    assert attempt(PASSWORD).status_code == 429
    assert "15" in locked.text  # "wait 15 minutes"


def test_a_task_queued_by_a_node_is_run_by_the_worker(two_nodes: Nodes, world: World) -> None:
    _production_password(world.users[Role.ASN])
    api, base = two_nodes.session(), two_nodes.base
    phone = Phone()
    token = api.post(
        f"{base}/api/v1/auth/token",
        json={
            "nip": world.teacher.nip,
            "password": PASSWORD,
            "device": {"public_key": phone.public_key, "label": "Tes"},
        },
    )
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    yesterday = timezone.now() - timedelta(days=1)
    offline = phone.checkin(*SCHOOL, kind="in", taken_at=yesterday)
    queued_by = _node(api.post(f"{base}/api/v1/presence/checkins", json=offline, headers=auth))

    task = DBTaskResult.objects.get(task_path__endswith="attendance_days_rebuild_task")
    assert task.status == "READY", queued_by
    judged = AttendanceDay.objects.filter(employee=world.teacher, day=timezone.localdate(yesterday))
    assert not judged.exists()
    worker = _worker_batch(two_nodes)
    assert worker.returncode == 0, worker.stderr
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL", task.traceback
    # Yesterday's verdict, built by another process from the check-in sent to a node.
    day = judged.get()
    if day.day_code != "LIBUR":  # a working day: the check-in is its arrival
        assert day.first_in == CheckinEvent.objects.get(employee=world.teacher).taken_at


def _worker_batch(nodes: Nodes) -> Any:
    """`tepat db_worker` as its systemd unit runs it, but stopping once the queue is empty."""
    return subprocess.run(
        [sys.executable, "-m", "tepat.cli", "db_worker", "--batch", "--no-startup-delay"],
        cwd=ROOT,
        env=nodes.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
