"""The check-in ledger, the audit trail and the TPP results are hash-chained: a row changed,
deleted or slipped in with raw SQL, even by someone who switches the append-only trigger off
first, is named by ``tepat ledger verify``."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tepat.audit.models import AuditEntry
from tepat.audit.services import audit_record
from tepat.ledger.chains import CHAINS
from tepat.ledger.models import Head, Seal
from tepat.ledger.selectors import ledger_verify
from tepat.ledger.services import ledger_seal
from tepat.presence.models import CheckinEvent
from tepat.tpp.models import TppResult, TppRun
from tepat.tpp.services import tpp_run_compute, tpp_run_start
from tests.tpp.months import MONTH, YEAR, world_month_store
from tests.world import World

pytestmark = pytest.mark.django_db

CHECKINS = CHAINS["presence.checkinevent"]
AUDIT = CHAINS["audit.auditentry"]
TPP = CHAINS["tpp.tppresult"]


def _checkins(world: World, count: int, *, minutes_ago: int = 30) -> list[CheckinEvent]:
    received = timezone.now() - timedelta(minutes=minutes_ago)
    return [
        CheckinEvent.objects.create(
            idempotency_key=f"ledger-{minutes_ago}-{i}",
            employee=world.teacher,
            kind="in",
            taken_at=received - timedelta(seconds=i),
            received_at=received,
            source="phone",
            status="accepted",
            site=world.school_site,
            latitude=-2.4233,
            longitude=101.1667,
            payload={"b": 1, "a": [1, 2]},
        )
        for i in range(count)
    ]


def _drop_append_only_trigger() -> None:
    """What an intruder with the database owner's rights does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER presence_checkinevent_append_only ON presence_checkinevent"
            )
        else:
            cursor.execute("DROP TRIGGER presence_checkinevent_no_update")


def _drop_audit_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_auditentry_append_only ON audit_auditentry")
        else:
            cursor.execute("DROP TRIGGER audit_auditentry_no_update")


def _verify_fails_naming(row_id: int, words: str) -> None:
    with pytest.raises(CommandError) as failure:
        call_command("ledger", "verify", stdout=StringIO(), stderr=StringIO())
    assert f"row {row_id}: {words}" in str(failure.value)


def test_sealed_rows_verify_and_the_head_is_printed(world: World) -> None:
    events = _checkins(world, 5)
    out = StringIO()
    call_command("ledger", "seal", stdout=out)
    assert "presence.checkinevent: 5 rows sealed" in out.getvalue()
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    head = Head.objects.get(chain=CHECKINS.name)
    assert head.last_row_id == events[-1].pk
    assert f"presence.checkinevent:{events[-1].pk}:{head.last_hash}" in out.getvalue()
    assert "5 rows checked" in out.getvalue()


def test_rows_younger_than_the_delay_wait_for_the_next_run(world: World) -> None:
    old = _checkins(world, 2)
    young = _checkins(world, 1, minutes_ago=1)
    assert ledger_seal(CHECKINS) == 2
    verdict = ledger_verify(CHECKINS)
    assert verdict.intact
    assert (verdict.checked, verdict.unsealed) == (2, 1)
    assert ledger_seal(CHECKINS, now=timezone.now() + timedelta(minutes=10)) == 1
    assert Seal.objects.filter(chain=CHECKINS.name).count() == len(old + young)
    # A second run seals nothing twice.
    assert ledger_seal(CHECKINS, now=timezone.now() + timedelta(minutes=10)) == 0


def test_a_row_changed_with_raw_sql_is_named(world: World) -> None:
    events = _checkins(world, 4)
    ledger_seal(CHECKINS)
    _drop_append_only_trigger()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE presence_checkinevent SET status = 'accepted', latitude = %s WHERE id = %s",
            [-2.5, events[2].pk],
        )
    _verify_fails_naming(events[2].pk, "changed since it was sealed")


def test_a_deleted_row_is_named(world: World) -> None:
    events = _checkins(world, 4)
    ledger_seal(CHECKINS)
    _drop_append_only_trigger()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM presence_checkinevent WHERE id = %s", [events[1].pk])
    _verify_fails_naming(events[1].pk, "deleted")


def test_a_row_slipped_in_below_the_seals_is_named(world: World) -> None:
    events = _checkins(world, 4)
    _drop_append_only_trigger()
    free_id = events[1].pk
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM presence_checkinevent WHERE id = %s", [free_id])
    ledger_seal(CHECKINS)
    assert ledger_verify(CHECKINS).intact
    # A punch written afterwards into the sealed range, under the free id.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO presence_checkinevent (id, idempotency_key, employee_id, kind, taken_at,"
            " received_at, source, status, risk_flags, message, reason, payload, selfie)"
            " SELECT %s, 'slipped-in', employee_id, kind, taken_at, received_at, source, status,"
            " risk_flags, message, reason, payload, selfie FROM presence_checkinevent"
            " WHERE id = %s",
            [free_id, events[0].pk],
        )
    _verify_fails_naming(free_id, "inserted after sealing")


def test_the_seals_cannot_be_rewritten(world: World) -> None:
    _checkins(world, 1)
    ledger_seal(CHECKINS)
    with pytest.raises(DatabaseError), transaction.atomic():
        Seal.objects.update(row_hash="0" * 64)


def test_a_recomputed_chain_still_differs_from_the_anchor_kept_elsewhere(world: World) -> None:
    events = _checkins(world, 3)
    ledger_seal(CHECKINS)
    head = Head.objects.get(chain=CHECKINS.name)
    right = f"presence.checkinevent:{head.last_row_id}:{head.last_hash}"
    call_command("ledger", "verify", "--anchor", right, stdout=StringIO())
    wrong = f"presence.checkinevent:{events[-1].pk}:{'a' * 64}"
    with pytest.raises(CommandError, match=f"row {events[-1].pk}: the chain differs"):
        call_command("ledger", "verify", "--anchor", wrong, stdout=StringIO(), stderr=StringIO())


def test_the_audit_trail_refuses_an_edit(world: World) -> None:
    entry = audit_record(
        actor=world.users["admin_bkpsdm"], action="org.test", obj=world.dindik, summary="x"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(summary="nothing happened")
    entry.refresh_from_db()
    assert entry.summary == "x"


def test_an_audit_entry_edited_afterwards_is_named(world: World) -> None:
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        entry = audit_record(
            actor=world.users["admin_bkpsdm"], action="org.test", obj=world.dindik, summary="x"
        )
    assert ledger_seal(AUDIT) >= 1
    assert ledger_verify(AUDIT).intact
    _drop_audit_trigger()
    AuditEntry.objects.filter(pk=entry.pk).update(summary="nothing happened")
    verdict = ledger_verify(AUDIT)
    assert verdict.problems == [f"audit.auditentry row {entry.pk}: changed since it was sealed"]


def _tpp_run(world: World, *, finished_minutes_ago: int | None) -> TppRun:
    world_month_store(world)
    run = tpp_run_start(actor=world.users["admin_bkpsdm"], year=YEAR, month=MONTH, enqueue=False)
    run = tpp_run_compute(run.pk)
    finished = (
        None
        if finished_minutes_ago is None
        else timezone.now() - timedelta(minutes=finished_minutes_ago)
    )
    TppRun.objects.filter(pk=run.pk).update(finished_at=finished)
    return run


def test_tpp_results_wait_until_their_run_has_finished(world: World) -> None:
    run = _tpp_run(world, finished_minutes_ago=None)
    assert ledger_seal(TPP) == 0
    TppRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(minutes=1))
    assert ledger_seal(TPP) == 0
    TppRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(hours=1))
    assert ledger_seal(TPP) == 6
    assert ledger_verify(TPP).checked == 6


def test_a_tpp_result_changed_with_raw_sql_is_named(world: World) -> None:
    run = _tpp_run(world, finished_minutes_ago=60)
    call_command("ledger", "seal", "--chain", TPP.name, stdout=StringIO())
    out = StringIO()
    call_command("ledger", "verify", "--chain", TPP.name, stdout=out)
    assert "tpp.tppresult: OK, 6 rows checked" in out.getvalue()
    result = TppResult.objects.get(run=run, employee=world.teacher2)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tpp_tppresult SET net = net + 1000000 WHERE id = %s", [result.pk])
    with pytest.raises(CommandError) as failure:
        call_command("ledger", "verify", stdout=StringIO(), stderr=StringIO())
    assert str(failure.value).endswith(
        f"tpp.tppresult row {result.pk}: changed since it was sealed"
    )
