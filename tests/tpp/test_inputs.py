"""Gathering a month from what the other apps stored: assignments per day, daily verdicts,
the calendar, e-Kinerja's month and Plt appointments, in a fixed handful of queries."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tepat.monitor.services import SanctionDecision, sanction_record
from tepat.org.models import Assignment, Employee
from tepat.rules.tpp import TppInputError, tpp_month_compute
from tepat.rules.tpp_policy import policy_load
from tepat.tpp.inputs import GatheredMonth, employee_ids_in_month, employee_months_gather
from tepat.tpp.models import PltAppointment
from tests.tpp.months import MONTH, WEEKDAYS, YEAR, month_store
from tests.world import World

KAUR = policy_load("kaur_style")
TTU = policy_load("ttu_style")


def _gather(employee: Employee, policy: Any = KAUR) -> GatheredMonth:
    (gathered,) = employee_months_gather(YEAR, MONTH, [employee.pk], policy)
    return gathered


def test_a_clean_month_has_21_working_days_and_pays_the_whole_basic(world: World) -> None:
    month_store(world.teacher2)
    gathered = _gather(world.teacher2)
    assert len(gathered.month.working_days) == 21
    assert gathered.opd_id == world.dindik.pk
    assert gathered.kelas_jabatan == 8
    result = tpp_month_compute(gathered.month, KAUR)
    assert result.basic == Decimal("4595150.00")
    assert result.gross == Decimal("4595150")
    assert result.net == Decimal("4549198")  # BPJS 1% of 4.595.150 = 45.951,50 → 45.952


def test_tk_tl_psw_and_a_missing_check_in_are_read_by_the_policy_bands(world: World) -> None:
    month_store(
        world.teacher2,
        days={
            date(2026, 11, 3): {"day_code": "TK", "minutes_late": None, "minutes_early": None},
            date(2026, 11, 4): {"minutes_late": 45},
            date(2026, 11, 5): {"in_code": "TL4", "minutes_late": None},
            date(2026, 11, 6): {"minutes_early": 95, "out_code": "PSW4"},
        },
    )
    records = {r.date: r for r in _gather(world.teacher2).month.days}
    assert records[date(2026, 11, 3)].code == "TK"
    assert records[date(2026, 11, 4)].tl_code == "TL2"
    assert records[date(2026, 11, 5)].tl_code == "TL4"
    assert records[date(2026, 11, 6)].psw_code == "PSW4"
    assert records[date(2026, 11, 9)].tl_code is None
    # TTU bands the same minutes differently: 45 minutes late is its own band there.
    ttu_records = {r.date: r for r in _gather(world.teacher2, TTU).month.days}
    assert ttu_records[date(2026, 11, 4)].tl_code in {b.code for b in TTU.discipline.tl.bands}
    result = tpp_month_compute(_gather(world.teacher2).month, KAUR)
    cut = {(line.date, line.code): line.percent for line in result.deductions}
    assert cut == {
        (date(2026, 11, 3), "TK"): Decimal(3),
        (date(2026, 11, 4), "TL2"): Decimal(1),
        (date(2026, 11, 5), "TL4"): Decimal("1.5"),
        (date(2026, 11, 6), "PSW4"): Decimal("1.5"),
    }


def test_approved_absences_count_as_the_policy_says(world: World) -> None:
    month_store(
        world.teacher2,
        days={
            date(2026, 11, 10): {"day_code": "cuti_tahunan", "minutes_late": None},
            date(2026, 11, 11): {"day_code": "dinas_luar", "minutes_late": None},
        },
    )
    month = _gather(world.teacher2).month
    codes = {r.date: r.code for r in month.days}
    assert codes[date(2026, 11, 10)] == "CUTI_TAHUNAN"
    assert codes[date(2026, 11, 11)] == "DL"
    result = tpp_month_compute(month, KAUR)
    assert result.deductions == ()
    assert result.discipline_paid == Decimal("1838060")


def test_a_mid_month_transfer_pays_each_kelas_for_its_working_days(world: World) -> None:
    old = Assignment.objects.get(employee=world.teacher2)
    old.valid_to = date(2026, 11, 16)
    old.save()
    Assignment.objects.create(
        employee=world.teacher2, valid_from=date(2026, 11, 16), unit=world.dindik_office,
        opd=world.dindik, jabatan="Analis", jabatan_kind="fungsional", kelas_jabatan=10,
        golongan="III/c",
    )  # fmt: skip
    month_store(world.teacher2, days={date(2026, 11, 12): {"minutes_late": 45}})
    gathered = _gather(world.teacher2)
    assert gathered.kelas_jabatan == 10
    assert gathered.unit_id == world.dindik_office.pk
    result = tpp_month_compute(gathered.month, KAUR)
    # The golden case kaur_transfer_mid_month, gathered from the database.
    assert [(s.kelas_jabatan, s.days, s.rupiah) for s in result.basic_segments] == [
        (8, 10, Decimal("2188166.67")),
        (10, 11, Decimal("3131961.90")),
    ]
    assert result.net == Decimal("5245860")


def test_a_new_employee_is_paid_from_the_first_day_in_post(world: World) -> None:
    newcomer = Employee.objects.create(
        nip="199901012026111001", name="Pegawai Baru", kind="PNS", gender="L",
        birth_date=date(1999, 1, 1),
    )  # fmt: skip
    Assignment.objects.create(
        employee=newcomer, valid_from=date(2026, 11, 16), unit=world.puskesmas,
        opd=world.dinkes, jabatan="Perawat", jabatan_kind="fungsional", kelas_jabatan=7,
        golongan="III/a",
    )  # fmt: skip
    month_store(newcomer, first=date(2026, 11, 16))
    assert newcomer.pk in employee_ids_in_month(YEAR, MONTH)
    month = _gather(newcomer).month
    assert month.start_date == date(2026, 11, 16)
    assert len(month.working_days) == 21
    assert len(month.days) == 11
    result = tpp_month_compute(month, KAUR)
    assert result.days_in_post == 11
    assert result.basic == Decimal("2051211.90")  # 3.915.950 × 11/21
    assert any("dalam jabatan: 11 hari" in line for line in result.explanation)


def test_a_plt_for_the_whole_month_gets_the_top_up_of_the_acting_post(world: World) -> None:
    PltAppointment.objects.create(
        employee=world.nurse, kelas_jabatan=12, jabatan="Plt Kepala Puskesmas",
        first_day=date(2026, 10, 1), decree="SK Bupati 800/123/2026",
    )  # fmt: skip
    month_store(world.nurse)
    month = _gather(world.nurse, TTU).month
    assert month.is_plt
    assert month.plt_kelas_jabatan == 12
    assert TTU.plt is not None
    assert tpp_month_compute(month, TTU).plt_paid > 0


def test_a_plt_for_part_of_the_month_is_noted_not_paid(world: World) -> None:
    PltAppointment.objects.create(
        employee=world.nurse, kelas_jabatan=12, jabatan="Plt Kepala Puskesmas",
        first_day=date(2026, 11, 10), decree="SK Bupati 800/124/2026",
    )  # fmt: skip
    month_store(world.nurse)
    gathered = _gather(world.nurse, TTU)
    assert not gathered.month.is_plt
    assert "bulan penuh" in gathered.notes[0]


def test_a_recorded_pay_cut_sanction_cuts_the_month_and_a_reprimand_does_not(
    world: World,
) -> None:
    bkpsdm = world.users["admin_bkpsdm"]
    for kind, number in (("TEGURAN_LISAN", "800/1"), ("PEMOTONGAN_25_6_BULAN", "800/2")):
        sanction_record(
            actor=bkpsdm,
            employee=world.teacher2,
            decision=SanctionDecision(
                kind=kind, decree_number=number,
                decided_on=date(2026, 10, 20), effective_from=date(2026, 11, 1),
            ),
        )  # fmt: skip
    month_store(world.teacher2)

    month = _gather(world.teacher2).month

    assert [s.code for s in month.sanctions] == ["PEMOTONGAN_25_6_BULAN"]
    result = tpp_month_compute(month, KAUR)
    assert result.sanction_cut == Decimal("1148788")  # 25% of Rp 4.595.150, half up
    assert result.gross == Decimal("4595150") - Decimal("1148788")


def test_a_missing_verdict_is_named_by_the_rules_core(world: World) -> None:
    month_store(world.teacher2, last=WEEKDAYS[-2])
    month = _gather(world.teacher2).month
    with pytest.raises(TppInputError, match="30-11-2026 belum ada"):
        tpp_month_compute(month, KAUR)


def test_the_regency_is_read_in_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for employee in Employee.objects.all():
        month_store(employee)
    ids = employee_ids_in_month(YEAR, MONTH)
    assert len(ids) == 6
    with django_assert_max_num_queries(8):
        gathered = employee_months_gather(YEAR, MONTH, ids, KAUR)
    assert [g.employee_id for g in gathered] == ids
