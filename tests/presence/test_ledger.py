"""The attendance ledger is append-only, down to the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from tepat.presence.models import CheckinEvent
from tests.presence.phone import Phone
from tests.world import World

SCHOOL = (-2.4233, 101.1667)


@pytest.fixture
def event(world: World) -> CheckinEvent:
    phone = Phone()
    phone.login(world.teacher.nip)
    phone.send(phone.checkin(*SCHOOL))
    return CheckinEvent.objects.get()


def test_an_update_is_refused_by_the_database(event: CheckinEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        CheckinEvent.objects.filter(pk=event.pk).update(status="refused")
    event.refresh_from_db()
    assert event.status == "accepted"


def test_a_raw_sql_update_is_refused_too(event: CheckinEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE presence_checkinevent SET taken_at = taken_at WHERE id = %s", [event.pk]
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite blocks updates only")
def test_a_delete_is_refused_on_postgresql(event: CheckinEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        CheckinEvent.objects.filter(pk=event.pk).delete()
    assert CheckinEvent.objects.filter(pk=event.pk).exists()
