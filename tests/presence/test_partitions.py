"""The ledger partitioned by month on PostgreSQL: what a check-in, a replay, a review, the
monthly maintenance and archiving must still do (SQLite: one plain table, same behaviour)."""

from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from tepat.presence.checkin_sql import checkin_insert
from tepat.presence.models import CheckinEvent, CheckinKey, CheckinReview
from tepat.presence.partitions import (
    LEDGER,
    partitions_detach,
    partitions_ensure,
    partitions_list,
)
from tests.world import World

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps the ledger in one plain table"
)


def _event(world: World, key: str, taken_at: datetime, **extra: Any) -> CheckinEvent | None:
    return checkin_insert(
        idempotency_key=key,
        employee_id=world.teacher.pk,
        kind="in",
        taken_at=taken_at,
        received_at=datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
        source="phone",
        status="accepted",
        payload={"id": key},
        **extra,
    )


def _partition_of(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM presence_checkinevent WHERE id = %s", [event_id]
        )
        return str(cursor.fetchone()[0])


def test_a_replay_is_stored_once_even_with_another_time(world: World) -> None:
    first = _event(world, "phone-1:7", datetime(2026, 12, 7, 0, 15, tzinfo=UTC))
    # The same check-in sent again from a phone whose clock moved a month: another partition.
    replay = _event(world, "phone-1:7", datetime(2027, 1, 9, 0, 15, tzinfo=UTC))
    assert first is not None
    assert replay is None
    assert list(CheckinEvent.objects.values_list("idempotency_key", "taken_at")) == [
        ("phone-1:7", datetime(2026, 12, 7, 0, 15, tzinfo=UTC))
    ]


def test_a_batch_of_machine_punches_skips_the_keys_already_stored(world: World) -> None:
    _event(world, "m:1", datetime(2026, 12, 7, 0, 15, tzinfo=UTC))
    rows = [
        CheckinEvent(
            idempotency_key=key,
            employee_id=world.teacher.pk,
            kind="in",
            taken_at=datetime(2026, 11, 3, 0, 15, tzinfo=UTC),
            received_at=datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
            source="machine",
            status="accepted",
        )
        for key in ("m:1", "m:2")
    ]
    CheckinEvent.objects.bulk_create(rows, ignore_conflicts=True)
    assert sorted(CheckinEvent.objects.values_list("idempotency_key", flat=True)) == ["m:1", "m:2"]


@postgresql_only
def test_each_event_lands_in_its_month_and_a_wild_clock_in_the_default(world: World) -> None:
    december = _event(world, "a", datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    # 31 December 18:00 UTC is 1 January 01:00 in Jakarta: January's partition.
    new_year = _event(world, "b", datetime(2026, 12, 31, 18, 0, tzinfo=UTC))
    reset_clock = _event(world, "c", datetime(2000, 1, 1, 0, 0, tzinfo=UTC))
    assert december is not None
    assert new_year is not None
    assert reset_clock is not None
    assert _partition_of(december.pk) == "presence_checkinevent_y2026m12"
    assert _partition_of(new_year.pk) == "presence_checkinevent_y2027m01"
    assert _partition_of(reset_clock.pk) == "presence_checkinevent_default"
    assert CheckinKey.objects.count() == 3


@postgresql_only
def test_rows_in_every_partition_refuse_update_and_delete(world: World) -> None:
    for key, when in (
        ("a", datetime(2026, 12, 2, tzinfo=UTC)),
        ("b", datetime(1999, 1, 2, tzinfo=UTC)),
    ):
        event = _event(world, key, when)
        assert event is not None
        with pytest.raises(DatabaseError), transaction.atomic():
            CheckinEvent.objects.filter(pk=event.pk).update(status="refused")
        with pytest.raises(DatabaseError), transaction.atomic():
            CheckinEvent.objects.filter(pk=event.pk).delete()
    assert CheckinEvent.objects.filter(status="accepted").count() == 2


@postgresql_only
def test_a_review_or_correction_of_an_event_that_does_not_exist_is_refused(world: World) -> None:
    event = _event(world, "a", datetime(2026, 12, 2, tzinfo=UTC))
    assert event is not None
    reviewer = world.users["atasan"]
    CheckinReview.objects.create(event=event, decision="accept", reviewer=reviewer, reason="ok")
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckinReview.objects.create(
            event_id=event.pk + 1000, decision="accept", reviewer=reviewer, reason="x"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        _event(world, "b", datetime(2026, 12, 2, tzinfo=UTC), corrects_id=event.pk + 1000)
    correction = _event(world, "c", datetime(2026, 12, 2, tzinfo=UTC), corrects_id=event.pk)
    assert correction is not None
    assert CheckinReview.objects.get().event_id == event.pk


@postgresql_only
def test_ensure_creates_the_coming_months_and_moves_rows_out_of_the_default(world: World) -> None:
    early = _event(world, "early", datetime(2027, 6, 10, tzinfo=UTC))  # no partition yet
    assert early is not None
    assert _partition_of(early.pk) == "presence_checkinevent_default"

    created = partitions_ensure((LEDGER,), today=date(2027, 5, 20), ahead=2)

    assert created == [
        "presence_checkinevent_y2027m05",
        "presence_checkinevent_y2027m06",
        "presence_checkinevent_y2027m07",
    ]
    assert _partition_of(early.pk) == "presence_checkinevent_y2027m06"
    assert partitions_ensure((LEDGER,), today=date(2027, 5, 20), ahead=2) == []
    # The moved row is still the ledger's: append-only, its key still claimed.
    with pytest.raises(DatabaseError), transaction.atomic():
        CheckinEvent.objects.filter(pk=early.pk).delete()
    assert _event(world, "early", datetime(2027, 6, 10, tzinfo=UTC)) is None
    assert CheckinEvent.objects.count() == 1


@postgresql_only
def test_detach_archives_old_months_and_their_replays_stay_answered(world: World) -> None:
    old = _event(world, "old", datetime(2026, 12, 2, tzinfo=UTC))
    _event(world, "new", datetime(2027, 1, 20, tzinfo=UTC))
    assert old is not None
    out = StringIO()
    call_command("partitions", "detach", "--before", "2027-01", "--dry-run", stdout=out)
    assert "presence_checkinevent_y2026m12" in out.getvalue()
    assert CheckinEvent.objects.count() == 2  # a dry run detaches nothing

    assert partitions_detach((LEDGER,), before=(2027, 1)) == ["presence_checkinevent_y2026m12"]

    assert list(CheckinEvent.objects.values_list("idempotency_key", flat=True)) == ["new"]
    names = [p.name for p in partitions_list()]
    assert "presence_checkinevent_y2026m12" not in names
    with connection.cursor() as cursor:  # the archive: a table of its own, every row in it
        cursor.execute("SELECT idempotency_key FROM presence_checkinevent_y2026m12")
        assert cursor.fetchall() == [("old",)]
    assert _event(world, "old", datetime(2026, 12, 2, tzinfo=UTC)) is None


@postgresql_only
def test_truncating_the_ledger_forgets_its_keys_too(world: World) -> None:
    _event(world, "a", datetime(2026, 12, 2, tzinfo=UTC))
    with connection.cursor() as cursor:  # as the demo reset does it
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE presence_checkinevent CASCADE")
    assert CheckinKey.objects.count() == 0
    assert _event(world, "a", datetime(2026, 12, 2, tzinfo=UTC)) is not None


def test_the_partitions_command_on_every_database(db: None) -> None:
    out = StringIO()
    call_command("partitions", "ensure", stdout=out)
    if connection.vendor == "sqlite":
        assert "tanpa partisi" in out.getvalue()
    else:
        listed = StringIO()
        call_command("partitions", "list", stdout=listed)
        assert "presence_checkinevent_default" in listed.getvalue()
