"""The monthly run: who may start and accept it, what it stores, and a recompute that shows
who changes before BKPSDM accepts it in place of the accepted results."""

from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tepat.accounts.access import tpp_results_visible_to
from tepat.accounts.models import Role
from tepat.audit.models import AuditEntry
from tepat.tpp.models import TppResult, TppRun
from tepat.tpp.selectors import run_changes
from tepat.tpp.services import tpp_run_accept, tpp_run_compute, tpp_run_start
from tests.tpp.months import MONTH, YEAR, month_store, world_month_store
from tests.world import World


def _computed(world: World) -> TppRun:
    run = tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)
    return tpp_run_compute(run.pk)


@pytest.mark.parametrize(
    "role", [Role.ASN, "atasan", Role.OPERATOR_OPD, Role.KEPALA_OPD, Role.AUDITOR]
)
def test_only_bkpsdm_starts_a_run(world: World, role: str) -> None:
    with pytest.raises(PermissionDenied):
        tpp_run_start(actor=world.users[role], year=YEAR, month=MONTH)
    assert not TppRun.objects.exists()


def test_a_run_stores_every_amount_the_explanation_and_the_inputs(world: World) -> None:
    world_month_store(world)
    run = _computed(world)
    assert run.status == TppRun.Status.COMPUTED
    assert (run.progress_done, run.progress_total, run.error_count) == (6, 6, 0)
    assert run.rules_version == "tpp-1"
    assert run.policy.name == "kaur_style"
    result = TppResult.objects.get(run=run, employee=world.teacher2)
    assert (result.basic, result.discipline_share, result.productivity_share) == (
        Decimal("4595150.00"), Decimal("1838060.00"), Decimal("2757090.00"),
    )  # fmt: skip
    assert (result.discipline_paid, result.productivity_paid) == (
        Decimal("1838060"), Decimal("2757090"),
    )  # fmt: skip
    assert (result.gross, result.withholdings, result.net) == (
        Decimal("4595150"), Decimal("45952"), Decimal("4549198"),
    )  # fmt: skip
    assert result.lines["withholdings"][0]["code"] == "BPJS_KESEHATAN"
    assert result.explanation[-2] == "TPP bersih: Rp 4.595.150 − Rp 45.952 = Rp 4.549.198"
    assert len(result.inputs["working_days"]) == 21
    assert result.inputs["productivity"]["minutes"] == 6750
    assert (result.policy_name, result.policy_version, result.rules_version) == (
        "kaur_style", "1", "tpp-1",
    )  # fmt: skip


def test_an_employee_whose_month_is_incomplete_is_listed_with_the_reason(world: World) -> None:
    world_month_store(world, nurse={"last": date(2026, 11, 27)})
    run = _computed(world)
    assert run.error_count == 1
    nurse = TppResult.objects.get(run=run, employee=world.nurse)
    assert nurse.net == 0
    assert nurse.error == "Data hari 30-11-2026 belum ada"


def test_a_second_run_cannot_start_while_one_is_queued(world: World) -> None:
    tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)
    with pytest.raises(ValidationError):
        tpp_run_start(actor=world.users[Role.SUPERADMIN], year=YEAR, month=MONTH, enqueue=False)


def test_a_month_before_every_approved_policy_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=2021, month=12)
    assert "01-12-2021" in caught.value.messages[0]


def test_a_recompute_shows_who_changes_and_replaces_the_month_only_when_accepted(
    world: World,
) -> None:
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    world_month_store(world)
    first = _computed(world)
    for role in (Role.OPERATOR_OPD, Role.KEPALA_OPD, Role.AUDITOR, Role.ASN):
        with pytest.raises(PermissionDenied):
            tpp_run_accept(actor=world.users[role], run=first)
    tpp_run_accept(actor=bkpsdm, run=first)
    accepted_rows = list(TppResult.objects.filter(run=first).values_list("pk", "net"))

    # A correction: the teacher was in fact 45 minutes late on 4 November (TL2, 1% of the
    # discipline share 1.838.060 = 18.380,60; paid 1.819.679, gross 4.576.769, BPJS 45.768).
    month_store(world.teacher2, days={date(2026, 11, 4): {"minutes_late": 45}})
    second = _computed(world)
    assert second.is_recompute
    assert second.previous == first
    changes = run_changes(second, tpp_results_visible_to(bkpsdm))
    assert [(c.employee_id, c.old_net, c.new_net) for c in changes] == [
        (world.teacher2.pk, Decimal("4549198"), Decimal("4531001")),
    ]
    assert changes[0].difference == Decimal("-18197")
    assert any("TL2" in line for line in changes[0].added)
    # Until accepted, the accepted run still counts, unchanged.
    first.refresh_from_db()
    assert first.status == TppRun.Status.ACCEPTED

    tpp_run_accept(actor=bkpsdm, run=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (TppRun.Status.SUPERSEDED, TppRun.Status.ACCEPTED)
    assert list(TppResult.objects.filter(run=first).values_list("pk", "net")) == accepted_rows
    assert AuditEntry.objects.filter(action="tpp.run_accept").count() == 2


def test_a_recompute_against_a_replaced_run_cannot_be_accepted(world: World) -> None:
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    world_month_store(world)
    first = _computed(world)
    tpp_run_accept(actor=bkpsdm, run=first)
    stale = _computed(world)
    newer = _computed(world)
    tpp_run_accept(actor=bkpsdm, run=newer)
    stale.refresh_from_db()
    assert stale.status == TppRun.Status.DISCARDED
    with pytest.raises(ValidationError):
        tpp_run_accept(actor=bkpsdm, run=stale)


def test_the_command_computes_through_the_same_service(world: World) -> None:
    world_month_store(world)
    out = StringIO()
    call_command("tpp_run", "--month", "2026-11", stdout=out)
    run = TppRun.objects.get()
    assert run.status == TppRun.Status.COMPUTED
    assert run.started_by is None
    assert "6 pegawai" in out.getvalue()
    assert TppResult.objects.filter(run=run).count() == 6


def test_the_command_refuses_a_bad_month(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("tpp_run", "--month", "2026-13")


def test_a_failed_run_leaves_no_results(world: World, monkeypatch: Any) -> None:
    world_month_store(world)
    run = tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)

    def broken(*args: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("tepat.tpp.inputs.employee_months_gather", broken)
    with pytest.raises(RuntimeError):
        tpp_run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == TppRun.Status.FAILED
    assert "database went away" in run.failure
    assert not TppResult.objects.filter(run=run).exists()
