"""Sample leave and correction requests for the demo regency, so the request list and the
approval queue show something: filed and decided through the same services a user would use
(so each has its audit rows), around the demo's SD in the capital.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from tepat.accounts.access import subordinate_ids
from tepat.accounts.models import Role, User
from tepat.org.models import Employee
from tepat.presence.absences import AbsenceInput, absence_request_decide, absence_request_submit
from tepat.presence.models import AbsenceRequest


@dataclass(frozen=True)
class _Sample:
    who: str
    """ "teacher" (files for themself) or "colleague N" (the operator files, paper form)."""
    type: str
    first: int
    """Working days from today (negative: past)."""
    days: int
    reason: str
    decision: str = ""
    """ "", "approve" or "reject"."""
    note: str = ""


SAMPLES = (
    _Sample("teacher", "cuti_tahunan", 5, 2, "Menghadiri pernikahan adik di Bengkulu"),
    _Sample("teacher", "lupa_absen", -1, 1, "Lupa presensi masuk, hadir sejak 07.20"),
    _Sample("colleague 0", "sakit", -1, 1, "Demam; formulir kertas diserahkan ke operator"),
    _Sample(
        "colleague 1", "izin", -3, 1, "Mengurus KTP anak di Disdukcapil", "approve", "Silakan."
    ),
    _Sample("colleague 2", "cuti_tahunan", -8, 2, "Keperluan keluarga", "approve", "Disetujui."),
    _Sample(
        "colleague 3",
        "cuti_tahunan",
        4,
        3,
        "Berlibur bersama keluarga",
        "reject",
        "Bertepatan dengan ujian sekolah; ajukan ulang setelah ujian.",
    ),
)


def _working_day(today: date, offset: int) -> date:
    """The `offset`-th Monday–Friday from today (negative: back)."""
    step = 1 if offset >= 0 else -1
    day, left = today, abs(offset)
    while left:
        day += timedelta(days=step)
        if day.weekday() < 5:
            left -= 1
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _input(sample: _Sample, first: date, zone: Any) -> AbsenceInput:
    last = first
    for _n in range(sample.days - 1):
        last = _working_day(last, 1)
    if sample.type == "lupa_absen":
        return AbsenceInput(
            type=sample.type,
            first_day=first,
            last_day=first,
            reason=sample.reason,
            checkin_kind="in",
            checkin_at=datetime.combine(first, time(7, 20), tzinfo=zone),
        )
    return AbsenceInput(type=sample.type, first_day=first, last_day=last, reason=sample.reason)


def demo_absence_requests_write(*, today: date) -> int:
    """The sample requests: pending ones in the principal's queue, approved and rejected ones
    in the history, some entered by the OPD operator from a paper form. Returns how many."""
    teacher_user = User.objects.filter(role=Role.ASN, employee__isnull=False).order_by("pk").last()
    operator = User.objects.filter(role=Role.OPERATOR_OPD).first()
    if teacher_user is None or operator is None or teacher_user.employee_id is None:
        return 0
    teacher = teacher_user.employee
    assert teacher is not None
    principal_id = (
        teacher.assignments.filter(valid_to__isnull=True)
        .values_list("supervisor_id", flat=True)
        .first()
    )
    if principal_id is None:
        return 0
    principal = User.objects.filter(employee_id=principal_id).first()
    if principal is None:
        return 0
    colleagues = list(
        Employee.objects.filter(id__in=subordinate_ids(principal_id, today))
        .exclude(pk=teacher.pk)
        .order_by("nip")
    )
    zone = timezone.get_current_timezone()
    made = 0
    for sample in SAMPLES:
        if sample.who == "teacher":
            employee, actor = teacher, teacher_user
        else:
            if not colleagues:
                continue
            employee = colleagues[int(sample.who.split()[1]) % len(colleagues)]
            actor = operator
        first = _working_day(today, sample.first)
        # Filed the afternoon of a past day, or yesterday for a coming one.
        filed_on = first if first < today else today - timedelta(days=1)
        submitted = datetime.combine(filed_on, time(16), tzinfo=zone)
        request: AbsenceRequest = absence_request_submit(
            actor=actor, employee=employee, data=_input(sample, first, zone), now=submitted
        )
        if sample.decision:
            absence_request_decide(
                actor=principal,
                request_id=request.pk,
                approve=sample.decision == "approve",
                note=sample.note,
                now=submitted + timedelta(hours=2),
            )
        made += 1
    return made
