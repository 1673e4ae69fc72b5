"""Single check-ins answered at the same moment by one worker share their statements (one read,
one INSERT for several: tepat/presence/checkin_sql.py), and each phone still gets the answer
for its own check-in, stored exactly once, committed before it is answered."""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from tepat.org.models import Employee
from tepat.presence import checkin_sql
from tepat.presence.checkin_lane import checkin_answer
from tepat.presence.models import CheckinEvent
from tests.presence.phone import Phone
from tests.world import World, _assign, _employee, _user

pytestmark = [
    pytest.mark.usefixtures("transactional_db"),  # each thread commits through its own connection
    pytest.mark.skipif(connection.vendor != "postgresql", reason="grouping is PostgreSQL's"),
]

SCHOOL = (-2.4233, 101.1667)


def _teachers(world: World, count: int) -> list[tuple[Phone, Employee]]:
    """``count`` teachers of the world's school, each logged in on a phone of their own."""
    guru = world.teacher.assignments.get().schedule_group
    phones = []
    for i in range(count):
        teacher = _employee("PNS", 40 + i, f"Guru {i}")
        _assign(
            teacher, world.school, supervisor=world.principal, kelas=8, golongan="III/b", group=guru
        )
        _user(teacher.nip, "asn", employee=teacher)
        phone = Phone()
        assert phone.login(teacher.nip).status_code == 200
        phones.append((phone, teacher))
    return phones


def _held(group: Any, monkeypatch: pytest.MonkeyPatch, behind: int, sizes: list[int]) -> None:
    """The first statement of ``group`` waits until ``behind`` callers queue behind it, so the
    next one serves them all at once; every statement's size is noted in ``sizes``."""
    run_many = group.run_many
    first = [True]

    def held(calls: list[list[Any]]) -> Any:
        if first[0]:
            first[0] = False
            deadline = time.monotonic() + 10
            while len(group.waiting) < behind and time.monotonic() < deadline:
                time.sleep(0.005)
        sizes.append(len(calls))
        return run_many(calls)

    monkeypatch.setattr(group, "run_many", held)


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in a thread of its own (as a worker's threads would), all together."""
    answers: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            answers[i] = calls[i]()
        except BaseException as exc:  # reported by the test, not the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return answers


def _send(phone: Phone, item: dict[str, Any]) -> Callable[[], Any]:
    return lambda: checkin_answer(phone.token, json.dumps(item).encode())


def test_check_ins_at_the_same_moment_each_get_their_own_answer_and_one_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    teachers = _teachers(world, 6)
    phones = [phone for phone, _teacher in teachers]
    items = [phone.checkin(*SCHOOL) for phone in phones]
    reads: list[int] = []
    inserts: list[int] = []
    _held(checkin_sql._START_GROUP, monkeypatch, len(phones) - 1, reads)
    _held(checkin_sql._INSERT_GROUP, monkeypatch, len(phones) - 1, inserts)

    answers = _at_once([_send(p, item) for p, item in zip(phones, items, strict=True)])

    assert max(reads) == len(phones) - 1  # five read in one statement
    assert max(inserts) == len(phones) - 1  # and stored in one
    for (_phone, teacher), item, (status, body) in zip(teachers, items, answers, strict=True):
        assert (status, body["id"], body["status"]) == (201, item["id"], "accepted")
        assert body["site"]["name"] == "SD Negeri 01 Lubuk Pinang"
        row = CheckinEvent.objects.get(idempotency_key=item["id"])
        assert (row.employee_id, row.seq, row.taken_at.isoformat()) == (
            teacher.pk,
            item["seq"],
            body["taken_at"],
        )
    assert CheckinEvent.objects.count() == len(phones)


def test_the_same_check_in_sent_three_times_at_once_is_stored_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    [(phone, _teacher)] = _teachers(world, 1)
    item = phone.checkin(*SCHOOL)
    inserts: list[int] = []
    _held(checkin_sql._INSERT_GROUP, monkeypatch, 2, inserts)

    answers = _at_once([_send(phone, item)] * 3)

    assert sorted(status for status, _body in answers) == [200, 200, 201]  # two replays
    assert {body["id"] for _status, body in answers} == {item["id"]}
    assert CheckinEvent.objects.filter(idempotency_key=item["id"]).count() == 1
    assert max(inserts) >= 2


def test_when_a_shared_statement_fails_each_check_in_is_stored_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = [phone for phone, _teacher in _teachers(world, 4)]
    items = [phone.checkin(*SCHOOL) for phone in phones]
    inserts: list[int] = []
    _held(checkin_sql._INSERT_GROUP, monkeypatch, len(phones) - 1, inserts)
    monkeypatch.setattr(checkin_sql, "_grouped_insert_sql", lambda n: "INSERT INTO nowhere")

    answers = _at_once([_send(p, item) for p, item in zip(phones, items, strict=True)])

    assert max(inserts) == len(phones) - 1  # the shared INSERT was tried, and failed
    assert [status for status, _body in answers] == [201] * len(phones)
    stored = set(CheckinEvent.objects.values_list("idempotency_key", flat=True))
    assert stored == {item["id"] for item in items}


def test_a_refused_check_in_in_a_group_does_not_sink_the_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = [phone for phone, _teacher in _teachers(world, 3)]
    far = (SCHOOL[0] + 0.0108, SCHOOL[1])  # 1.2 km away: outside every fence
    items = [phones[0].checkin(*far), *(p.checkin(*SCHOOL) for p in phones[1:])]
    inserts: list[int] = []
    _held(checkin_sql._INSERT_GROUP, monkeypatch, len(phones) - 1, inserts)

    answers = _at_once([_send(p, item) for p, item in zip(phones, items, strict=True)])

    assert [(status, body["status"]) for status, body in answers] == [
        (422, "refused"),
        (201, "accepted"),
        (201, "accepted"),
    ]
    assert CheckinEvent.objects.count() == len(phones)  # the refusal is in the ledger too


def test_inside_a_transaction_a_check_in_runs_its_own_statements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[list[Any]]] = []
    monkeypatch.setattr(checkin_sql._INSERT_GROUP, "run_many", ran.append)
    with transaction.atomic():
        assert checkin_sql._grouped(checkin_sql._INSERT_GROUP, [1]) is None
    transaction.set_autocommit(False)
    try:
        assert checkin_sql._grouped(checkin_sql._INSERT_GROUP, [2]) is None
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert ran == []  # its statement would not have been in its transaction
