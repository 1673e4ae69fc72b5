"""Two refusals of the same address answered at the same moment (two workers, two nodes) are
still one audit row for their minute: the database keeps the first and refuses the second."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from tepat.audit import attempts
from tepat.audit.attempts import CSRF_FAILED, Attempt, attempt_write
from tepat.audit.models import AuditEntry, RefusedAttemptMinute

# Each thread writes through its own connection, committed: no test transaction can wrap them.
pytestmark = pytest.mark.usefixtures("transactional_db")

AT = datetime(2026, 11, 23, 2, 30, 20, tzinfo=UTC)
ADDRESS = "203.0.113.9"
REFUSAL = Attempt(action=CSRF_FAILED, object_type="request", summary="POST failed the CSRF check")


def _refused() -> AuditEntry | None:
    return attempt_write(REFUSAL, actor=None, ip_address=ADDRESS, path="/masuk/")


def test_a_second_row_for_the_minute_is_refused_even_when_the_look_up_missed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attempts, "_written", lambda key: False)
    with time_machine.travel(AT, tick=False):
        first = _refused()
        second = _refused()
    assert first is not None
    assert second is None
    assert AuditEntry.objects.filter(action=CSRF_FAILED).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections: PostgreSQL")
def test_two_refusals_at_the_same_moment_write_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    both_looked = threading.Barrier(2, timeout=10)
    looked_up = attempts._written

    def look_up_then_wait(key: str) -> bool:
        found = looked_up(key)
        both_looked.wait()  # each has looked and found nothing before either writes
        return found

    monkeypatch.setattr(attempts, "_written", look_up_then_wait)
    written: list[AuditEntry | None] = []
    errors: list[BaseException] = []

    def refuse() -> None:
        try:
            written.append(_refused())
        except BaseException as exc:  # reported by the test, not the thread
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(AT, tick=False):
        threads = [threading.Thread(target=refuse) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert sorted(entry is not None for entry in written) == [False, True]
    [row] = AuditEntry.objects.filter(action=CSRF_FAILED)
    assert (row.ip_address, row.after) == (ADDRESS, {"path": "/masuk/"})


def test_the_minutes_claimed_are_kept_only_a_few_minutes() -> None:
    with time_machine.travel(AT, tick=False):
        _refused()
    with time_machine.travel(AT + timedelta(minutes=11), tick=False):
        _refused()
    assert list(RefusedAttemptMinute.objects.values_list("key", flat=True)) == [
        f"{CSRF_FAILED}|ip:{ADDRESS}|2026-11-23T02:41"
    ]
    assert AuditEntry.objects.filter(action=CSRF_FAILED).count() == 2  # the trail keeps both
