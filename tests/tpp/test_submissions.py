"""The payment request (pengajuan) of an OPD's month: every step with every role, four eyes,
returns with a reason, and the lock approval puts on the month — a recompute leaves a locked
OPD's paid results alone and carries each difference into the next month's net."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from tepat.accounts.models import Role, User
from tepat.audit.models import AuditEntry
from tepat.kinerja.models import MonthlyEvaluation
from tepat.org.models import Employee
from tepat.presence.models import AttendanceDay
from tepat.tpp.models import TppAdjustment, TppResult, TppRun, TppSubmission, TppSubmissionStep
from tepat.tpp.selectors import accepted_results_of
from tepat.tpp.services import tpp_run_accept, tpp_run_compute, tpp_run_start
from tepat.tpp.submissions import (
    tpp_submission_approve,
    tpp_submission_export,
    tpp_submission_open,
    tpp_submission_ready,
    tpp_submission_return,
    tpp_submission_verify,
)
from tests.tpp.months import MONTH, YEAR, month_store, world_month_store
from tests.world import World

Status = TppSubmission.Status


def accepted_run(world: World, year: int = YEAR, month: int = MONTH) -> TppRun:
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    run = tpp_run_start(actor=bkpsdm, year=year, month=month, enqueue=False)
    return tpp_run_accept(actor=bkpsdm, run=tpp_run_compute(run.pk))


def december_store(employee: Employee) -> None:
    """A clean December 2026: present on time every weekday, 6,750 minutes approved."""
    now = timezone.now()
    days = [date(2026, 12, 1) + timedelta(n) for n in range(31)]
    AttendanceDay.objects.bulk_create(
        AttendanceDay(
            employee=employee, day=d, day_code="H", minutes_late=0, minutes_early=0,
            rules_version="verdict-1", computed_at=now,
        )
        for d in days
        if d.weekday() < 5
    )  # fmt: skip
    MonthlyEvaluation.objects.create(
        employee=employee, year=2026, month=12, approved_minutes=6750,
        productivity_percent=Decimal(100), method="minutes", policy_name="kinerja_default",
        policy_version="1", rules_version="kinerja-1", computed_at=now,
    )  # fmt: skip


def approved(world: World) -> TppSubmission:
    """Dinas Pendidikan's November request, prepared, checked and approved (locked)."""
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="Dicek")
    return tpp_submission_approve(actor=u[Role.KEPALA_OPD], submission=submission, note="Setuju")


@pytest.fixture
def november(world: World) -> TppRun:
    world_month_store(world)
    return accepted_run(world)


def test_a_request_goes_from_the_operator_to_bpkad_with_every_step_recorded(
    world: World, november: TppRun
) -> None:
    u = world.users
    submission = approved(world)
    tpp_submission_verify(actor=u[Role.ADMIN_BKPSDM], submission=submission, note="Sesuai")
    tpp_submission_export(actor=u[Role.ADMIN_BKPSDM], submission=submission, note="Ke BPKAD")
    submission.refresh_from_db()
    assert submission.status == Status.EXPORTED
    assert submission.exported_by == u[Role.ADMIN_BKPSDM]
    assert submission.exported_at is not None
    assert submission.run == november
    assert submission.is_locked
    steps = list(submission.steps.values_list("action", "actor__username", "note", "to_status"))
    assert steps == [
        ("open", "operator.dindik", "", "draft"),
        ("ready", "operator.dindik", "Dicek", "ready"),
        ("approve", world.kadis.nip, "Setuju", "approved"),
        ("verify", "bkpsdm", "Sesuai", "verified"),
        ("export", "bkpsdm", "Ke BPKAD", "exported"),
    ]
    assert list(
        AuditEntry.objects.filter(action__startswith="tpp.submission_")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [f"tpp.submission_{a}" for a in ("open", "ready", "approve", "verify", "export")]


def test_a_step_record_cannot_be_changed(world: World, november: TppRun) -> None:
    step = approved(world).steps.first()
    assert step is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        TppSubmissionStep.objects.filter(pk=step.pk).update(note="diubah")


def test_there_is_no_request_without_an_accepted_run(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        tpp_submission_open(actor=world.users[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                            month=MONTH)  # fmt: skip
    assert "November 2026" in caught.value.messages[0]


@pytest.mark.parametrize(
    "role",
    [Role.ASN, "atasan", Role.KEPALA_OPD, Role.ADMIN_BKPSDM, Role.AUDITOR, "operator_other"],
)
def test_only_the_opds_own_operator_opens_and_checks_it(
    world: World, november: TppRun, role: str
) -> None:
    with pytest.raises(PermissionDenied):
        tpp_submission_open(actor=world.users[role], opd=world.dindik, year=YEAR, month=MONTH)
    submission = tpp_submission_open(actor=world.users[Role.OPERATOR_OPD], opd=world.dindik,
                                     year=YEAR, month=MONTH)  # fmt: skip
    with pytest.raises(PermissionDenied):
        tpp_submission_ready(actor=world.users[role], submission=submission, note="")
    submission.refresh_from_db()
    assert submission.status == Status.DRAFT


@pytest.mark.parametrize(
    "role",
    [Role.ASN, "atasan", Role.OPERATOR_OPD, Role.ADMIN_BKPSDM, Role.AUDITOR, "operator_other"],
)
def test_only_the_head_of_the_opd_approves(world: World, november: TppRun, role: str) -> None:
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="")
    with pytest.raises(PermissionDenied):
        tpp_submission_approve(actor=u[role], submission=submission, note="")
    submission.refresh_from_db()
    assert (submission.status, submission.locked_at) == (Status.READY, None)


def test_the_head_of_another_opd_cannot_approve(world: World, november: TppRun) -> None:
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="")
    kadinkes = User.objects.create(username="kadinkes", role=Role.KEPALA_OPD, opd=world.dinkes,
                                   employee=world.kadinkes)  # fmt: skip
    with pytest.raises(PermissionDenied):
        tpp_submission_approve(actor=kadinkes, submission=submission, note="")


@pytest.mark.parametrize(
    "role", [Role.ASN, "atasan", Role.OPERATOR_OPD, Role.KEPALA_OPD, Role.AUDITOR]
)
def test_only_bkpsdm_verifies_and_exports(world: World, november: TppRun, role: str) -> None:
    u = world.users
    submission = approved(world)
    with pytest.raises(PermissionDenied):
        tpp_submission_verify(actor=u[role], submission=submission, note="")
    tpp_submission_verify(actor=u[Role.ADMIN_BKPSDM], submission=submission, note="")
    with pytest.raises(PermissionDenied):
        tpp_submission_export(actor=u[role], submission=submission, note="")
    submission.refresh_from_db()
    assert submission.status == Status.VERIFIED


def test_steps_happen_in_order(world: World, november: TppRun) -> None:
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    with pytest.raises(ValidationError):
        tpp_submission_approve(actor=u[Role.KEPALA_OPD], submission=submission, note="")
    with pytest.raises(ValidationError):
        tpp_submission_export(actor=u[Role.ADMIN_BKPSDM], submission=submission, note="")
    with pytest.raises(ValidationError):
        tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR, month=MONTH)


def test_the_preparer_never_approves_or_verifies_even_holding_every_role(
    world: World, november: TppRun
) -> None:
    admin = world.users[Role.SUPERADMIN]  # may act at every step, but as one person only
    submission = tpp_submission_open(actor=admin, opd=world.dindik, year=YEAR, month=MONTH)
    tpp_submission_ready(actor=admin, submission=submission, note="Dicek")
    with pytest.raises(PermissionDenied) as caught:
        tpp_submission_approve(actor=admin, submission=submission, note="")
    assert str(caught.value) == gettext(
        "Four eyes: you already took part in this payment request as %(part)s; "
        "another person must do this step."
    ) % {"part": gettext("preparer")}
    with pytest.raises(PermissionDenied):
        tpp_submission_return(actor=admin, submission=submission, reason="Salah")
    tpp_submission_approve(actor=world.users[Role.KEPALA_OPD], submission=submission, note="")
    with pytest.raises(PermissionDenied):
        tpp_submission_verify(actor=admin, submission=submission, note="")
    submission.refresh_from_db()
    assert submission.status == Status.APPROVED


def test_an_operator_made_head_of_opd_cannot_approve_what_they_prepared(
    world: World, november: TppRun
) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    submission = tpp_submission_open(actor=operator, opd=world.dindik, year=YEAR, month=MONTH)
    tpp_submission_ready(actor=operator, submission=submission, note="")
    operator.role = Role.KEPALA_OPD  # the same account, promoted
    operator.save()
    with pytest.raises(PermissionDenied):
        tpp_submission_approve(actor=operator, submission=submission, note="")


def test_the_approver_never_verifies(world: World, november: TppRun) -> None:
    kadis_user = world.users[Role.KEPALA_OPD]
    submission = approved(world)
    kadis_user.role, kadis_user.opd = Role.ADMIN_BKPSDM, None  # moved to BKPSDM meanwhile
    kadis_user.save()
    with pytest.raises(PermissionDenied):
        tpp_submission_verify(actor=kadis_user, submission=submission, note="")


def test_a_returned_request_carries_its_reason_and_is_checked_again(
    world: World, november: TppRun
) -> None:
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="")
    with pytest.raises(ValidationError):
        tpp_submission_return(actor=u[Role.KEPALA_OPD], submission=submission, reason="  ")
    with pytest.raises(PermissionDenied):  # BKPSDM does not act before the head of OPD
        tpp_submission_return(actor=u[Role.ADMIN_BKPSDM], submission=submission, reason="x")
    tpp_submission_return(actor=u[Role.KEPALA_OPD], submission=submission, reason="NIP salah")
    submission.refresh_from_db()
    assert submission.status == Status.RETURNED
    assert submission.steps.last().note == "NIP salah"  # type: ignore[union-attr]
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="Diperbaiki")
    tpp_submission_approve(actor=u[Role.KEPALA_OPD], submission=submission, note="")
    tpp_submission_return(actor=u[Role.ADMIN_BKPSDM], submission=submission, reason="Rekening")
    submission.refresh_from_db()
    assert submission.status == Status.RETURNED
    assert submission.is_locked  # a return after approval does not unlock the month


def test_a_month_with_an_employee_not_computed_cannot_be_marked_ready(world: World) -> None:
    world_month_store(world, teacher={"last": date(2026, 11, 27)})
    accepted_run(world)
    operator = world.users[Role.OPERATOR_OPD]
    submission = tpp_submission_open(actor=operator, opd=world.dindik, year=YEAR, month=MONTH)
    with pytest.raises(ValidationError) as caught:
        tpp_submission_ready(actor=operator, submission=submission, note="")
    assert caught.value.messages == [
        gettext(
            "%(count)d employees of this OPD could not be computed; the month must be "
            "corrected and recomputed before it is paid."
        )
        % {"count": 1}
    ]


def _teacher2_late(world: World) -> None:
    """A correction: teacher2 was 45 minutes late on 4 November (TL2: net 4.549.198 →
    4.531.001, −18.197; see tests/tpp/test_runs.py)."""
    month_store(world.teacher2, days={date(2026, 11, 4): {"minutes_late": 45}})


def test_a_recompute_leaves_a_locked_opd_as_paid_and_corrects_it_next_month(
    world: World, november: TppRun
) -> None:
    submission = approved(world)
    paid = list(TppResult.objects.filter(run=november).values_list("pk", "net"))
    _teacher2_late(world)
    recompute = accepted_run(world)

    submission.refresh_from_db()
    assert submission.run == november  # the locked OPD is still paid from the first run
    assert list(TppResult.objects.filter(run=november).values_list("pk", "net")) == paid
    adjustment = TppAdjustment.objects.get()
    assert (adjustment.employee, adjustment.amount) == (world.teacher2, Decimal("-18197"))
    assert (adjustment.target_year, adjustment.target_month) == (2026, 12)
    assert adjustment.corrected_result.run == recompute
    audit = AuditEntry.objects.filter(action="tpp.run_accept").order_by("pk").last()
    assert audit is not None
    assert audit.after["locked_opds"] == ["Dinas Pendidikan dan Kebudayaan"]
    # What the teacher sees for November is what was paid.
    november_row = accepted_results_of(world.teacher2.pk)[0]
    assert (november_row.run, november_row.net) == (november, Decimal("4549198"))

    # December: the correction is a line of its own and comes off the net.
    for employee in Employee.objects.all():
        december_store(employee)
    december = accepted_run(world, 2026, 12)
    row = TppResult.objects.get(run=december, employee=world.teacher2)
    clean = TppResult.objects.get(run=december, employee=world.principal)
    assert row.adjustment == Decimal("-18197")
    assert row.net == row.gross - row.withholdings - Decimal("18197")
    assert clean.adjustment == 0
    assert row.lines["adjustments"][0]["month"] == "2026-11"
    assert any(
        f"Koreksi TPP November 2026 (periode terkunci, hitung ulang #{recompute.pk}): −Rp 18.197"
        == line
        for line in row.explanation
    )
    assert row.explanation[-1].startswith("TPP bersih setelah koreksi:")


def test_a_second_recompute_corrects_only_what_is_still_different(
    world: World, november: TppRun
) -> None:
    approved(world)
    _teacher2_late(world)
    accepted_run(world)
    accepted_run(world)  # nothing new: no second correction
    assert TppAdjustment.objects.count() == 1
    month_store(world.teacher2)  # the late arrival was a mistake after all: back as paid
    accepted_run(world)
    assert sorted(TppAdjustment.objects.values_list("amount", flat=True)) == [
        Decimal("-18197"), Decimal("18197"),
    ]  # fmt: skip


def test_an_unlocked_request_moves_onto_the_recompute_and_is_checked_again(
    world: World, november: TppRun
) -> None:
    u = world.users
    submission = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=YEAR,
                                     month=MONTH)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=submission, note="")
    _teacher2_late(world)
    recompute = accepted_run(world)
    submission.refresh_from_db()
    assert (submission.run, submission.status) == (recompute, Status.DRAFT)
    assert submission.steps.last().action == "run_replaced"  # type: ignore[union-attr]
    assert not TppAdjustment.objects.exists()


def test_a_correction_due_but_not_in_the_run_blocks_the_check(
    world: World, november: TppRun
) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    for employee in Employee.objects.all():
        december_store(employee)
    accepted_run(world, 2026, 12)  # computed before November's correction exists
    approved(world)
    _teacher2_late(world)
    accepted_run(world)
    december = tpp_submission_open(actor=operator, opd=world.dindik, year=2026, month=12)
    with pytest.raises(ValidationError) as caught:
        tpp_submission_ready(actor=operator, submission=december, note="")
    assert caught.value.messages == [
        gettext(
            "Corrections of an earlier locked month are due this month but are not in the "
            "run yet: BKPSDM must recompute the month first."
        )
    ]
    accepted_run(world, 2026, 12)
    tpp_submission_ready(actor=operator, submission=december, note="")


def test_a_correction_skips_a_month_already_locked(world: World, november: TppRun) -> None:
    u = world.users
    for employee in Employee.objects.all():
        december_store(employee)
    accepted_run(world, 2026, 12)
    approved(world)
    december = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=2026,
                                   month=12)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=december, note="")
    tpp_submission_approve(actor=u[Role.KEPALA_OPD], submission=december, note="")
    _teacher2_late(world)
    accepted_run(world)
    adjustment = TppAdjustment.objects.get()
    assert (adjustment.target_year, adjustment.target_month) == (2027, 1)
