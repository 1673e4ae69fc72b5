"""Machine punches into the attendance ledger: the one ingestion path shared by the push
protocol, the USB attlog file and the Fingerspot webhook.

The raw body is stored first, in its own commit, so nothing a machine sent is lost when
parsing or saving fails. Each punch is then kept once per idempotency key (serial, PIN,
time, status, verify): a resent batch, a re-uploaded file or a stamp reset adds nothing.
A punch whose PIN maps to an employee of the machine's OPD becomes a ``CheckinEvent``
(source = machine) with the same key; the others are kept and listed until mapped.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tepat.org.models import Assignment, Employee
from tepat.presence import iclock, machines, punches_sql
from tepat.presence.models import CheckinEvent, Machine, MachinePunch, MachineUpload, PinMapping
from tepat.presence.tasks import days_rebuild_later

KEY_CHUNK = 900  # SQLite's default limit on parameters in one statement is 999
BATCH = 1000


@dataclass
class IngestReport:
    """What happened to each line of one upload, for the device's ``OK:n`` and the operator."""

    lines: int = 0
    new: int = 0
    duplicates: int = 0
    unmapped: int = 0
    rejected: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    days: set[tuple[int, date]] = field(default_factory=set)


def upload_store(
    *,
    machine: Machine,
    source: str,
    table: str,
    body: bytes,
    received_at: datetime,
    ip: str | None = None,
    query: str = "",
    filename: str = "",
    actor: Any = None,
) -> MachineUpload:
    """Store a body exactly as received, committed before anything reads it."""
    return MachineUpload.objects.create(
        machine=machine,
        source=source,
        table=table[:16],
        query=query[:500],
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        filename=filename[:200],
        received_at=received_at,
        remote_ip=ip,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )


def punch_key(serial: str, punch: iclock.Punch) -> str:
    """The ledger's idempotency key for a machine punch: a hash of (serial, PIN, time,
    status, verify), so any serial and PIN length fits the column."""
    return "m:" + hashlib.sha256(punch.identity(serial).encode()).hexdigest()


def pins_resolve(machine: Machine, pins: Iterable[str]) -> dict[str, int]:
    """PIN → employee id: this machine's mapping, else the regency's, else the PIN as a NIP."""
    wanted = set(pins)
    found: dict[str, int] = {}
    rows = (
        PinMapping.objects.filter(pin__in=wanted)
        .filter(Q(machine=machine) | Q(machine__isnull=True))
        .values_list("machine_id", "pin", "employee_id")
    )
    # Regency rows first, so this machine's rows overwrite them (NULL order differs by DB).
    for _machine_id, pin, employee_id in sorted(rows, key=lambda row: row[0] is not None):
        found[pin] = employee_id
    if wanted - set(found):
        nips = Employee.objects.filter(nip__in=wanted - set(found)).values_list("nip", "pk")
        found.update(nips)
    return found


def _in_opd(machine: Machine, pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """Which (employee, day) pairs have an assignment in the machine's OPD. A PIN of another
    OPD's employee is kept, not counted (as presensi-ttukab's upload does, devices.md §8)."""
    if not pairs or machine.unit_id is None:
        return set()
    days = {day for _, day in pairs}
    rows = (
        Assignment.objects.filter(
            employee_id__in={employee_id for employee_id, _ in pairs},
            opd__units=machine.unit_id,
            valid_from__lte=max(days),
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=min(days)))
        .values_list("employee_id", "valid_from", "valid_to")
    )
    spans: dict[int, list[tuple[date, date | None]]] = {}
    for employee_id, start, end in rows:
        spans.setdefault(employee_id, []).append((start, end))
    return {
        (employee_id, day)
        for employee_id, day in pairs
        if any(
            start <= day and (end is None or end > day) for start, end in spans.get(employee_id, ())
        )
    }


def _event(
    machine: Machine,
    punch: MachinePunch,
    employee_id: int,
    *,
    received_at: datetime,
    held: bool,
) -> CheckinEvent:
    network = machines.network_of(machine.last_ip) if held else ""
    return CheckinEvent(
        idempotency_key=punch.key,
        employee_id=employee_id,
        kind=iclock.status_kind(punch.status, machine.status_map),
        taken_at=punch.taken_at,
        device_taken_at=punch.taken_at,
        received_at=received_at,
        source=CheckinEvent.Source.MACHINE,
        status=CheckinEvent.Status.REVIEW if held else CheckinEvent.Status.ACCEPTED,
        site_id=machine.site_id,
        risk_flags=[machines.NEW_NETWORK_FLAG] if held else [],
        message=_event_message(machine),
        payload={
            "sn": machine.serial,
            "pin": punch.pin,
            "time": punch.device_time,
            "status": punch.status,
            "verify": punch.verify,
            "workcode": punch.workcode,
            "network": network,
        },
    )


def _event_message(machine: Machine) -> str:
    return f"{machine.name or machine.serial}"[:255]


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        found.update(MachinePunch.objects.filter(key__in=chunk).values_list("key", flat=True))
    return found


def punches_record(
    machine: Machine,
    upload: MachineUpload,
    punches: list[iclock.Punch],
    *,
    received_at: datetime,
    held: bool = False,
) -> IngestReport:
    """Keep each new punch once and enter the mapped ones in the ledger. Call inside a
    transaction; the caller acknowledges only after it commits. On PostgreSQL one statement
    does it (``punches_sql``); elsewhere the ORM, with the same result."""
    report = IngestReport()
    fresh: dict[str, iclock.Punch] = {}
    for punch in punches:
        fresh.setdefault(punch_key(machine.serial, punch), punch)
    if connection.vendor == "postgresql":
        inserted = _punches_insert_sql(machine, upload, fresh, received_at=received_at, held=held)
    else:
        inserted = _punches_insert_orm(machine, upload, fresh, received_at=received_at, held=held)
    report.new = len(inserted)
    report.duplicates = len(punches) - report.new
    for key, employee, problem in inserted:
        punch = fresh[key]
        if problem:
            report.unmapped += 1
            report.problems.append(
                {"line": punch.line_no, "pin": punch.pin, "time": punch.time_text,
                 "reason": str(MachinePunch.Problem(problem).label)}
            )  # fmt: skip
        elif employee is not None:
            report.days.add((employee, punch.local_time.date()))
    return report


Inserted = list[tuple[str, int | None, str]]  # (key, employee id, problem) of each new punch


def _punches_insert_sql(
    machine: Machine,
    upload: MachineUpload,
    fresh: dict[str, iclock.Punch],
    *,
    received_at: datetime,
    held: bool,
) -> Inserted:
    zone = ZoneInfo(machine.timezone)
    rows = [
        punches_sql.BatchRow(
            line=punch.line_no,
            key=key,
            pin=punch.pin,
            device_time=punch.time_text,
            taken_at=punch.local_time.replace(tzinfo=zone),
            status=punch.status,
            verify=punch.verify,
            workcode=punch.workcode,
            kind=iclock.status_kind(punch.status, machine.status_map),
        )
        for key, punch in fresh.items()
    ]
    return punches_sql.batch_insert(
        machine_id=machine.pk,
        unit_id=machine.unit_id,
        site_id=machine.site_id,
        serial=machine.serial,
        upload_id=upload.pk,
        rows=rows,
        received_at=received_at,
        event_status=CheckinEvent.Status.REVIEW if held else CheckinEvent.Status.ACCEPTED,
        risk_flags=[machines.NEW_NETWORK_FLAG] if held else [],
        message=_event_message(machine),
        network=machines.network_of(machine.last_ip) if held else "",
    )


def _punches_insert_orm(
    machine: Machine,
    upload: MachineUpload,
    fresh: dict[str, iclock.Punch],
    *,
    received_at: datetime,
    held: bool,
) -> Inserted:
    zone = ZoneInfo(machine.timezone)
    existing = _existing_keys(list(fresh))
    new = {key: punch for key, punch in fresh.items() if key not in existing}
    employees = pins_resolve(machine, {p.pin for p in new.values()})
    belongs = _in_opd(
        machine,
        {(employees[p.pin], p.local_time.date()) for p in new.values() if p.pin in employees},
    )
    rows: list[MachinePunch] = []
    events: list[CheckinEvent] = []
    for key, punch in new.items():
        employee = employees.get(punch.pin)
        problem = MachinePunch.Problem.NONE
        if employee is None:
            problem = MachinePunch.Problem.UNMAPPED
        elif (employee, punch.local_time.date()) not in belongs:
            problem = MachinePunch.Problem.OTHER_OPD
        row = MachinePunch(
            machine=machine,
            upload=upload,
            key=key,
            pin=punch.pin,
            device_time=punch.time_text,
            taken_at=punch.local_time.replace(tzinfo=zone),
            status=punch.status,
            verify=punch.verify,
            workcode=punch.workcode,
            employee_id=employee,
            problem=problem,
        )
        rows.append(row)
        if not problem and employee is not None:
            events.append(_event(machine, row, employee, received_at=received_at, held=held))
    # ignore_conflicts: a concurrent resend of the same batch inserts nothing twice.
    MachinePunch.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    CheckinEvent.objects.bulk_create(events, batch_size=BATCH, ignore_conflicts=True)
    return [(row.key, row.employee_id, str(row.problem)) for row in rows]


def attlog_ingest(
    upload: MachineUpload,
    *,
    now: datetime,
    held: bool = False,
    dry_run: bool = False,
    realtime: bool = False,
) -> IngestReport:
    """Parse a stored ATTLOG body and record it in one transaction. Raises DatabaseError
    when the save fails (the upload is marked failed; the device must be told to resend)."""
    machine = upload.machine
    text, _ = iclock.body_text(bytes(upload.body), machine.encoding)
    punches, bad = iclock.parse_attlog(text)
    try:
        with transaction.atomic():
            report = punches_record(machine, upload, punches, received_at=now, held=held)
            report.lines = len(punches) + len(bad)
            report.rejected = len(bad)
            report.problems += [
                {"line": b.line_no, "text": b.text, "reason": b.reason} for b in bad
            ]
            report.problems.sort(key=lambda p: p["line"])
            upload_finish(upload, report, dry_run=dry_run)
            if dry_run:
                transaction.set_rollback(True)
            else:
                local_today = now.astimezone(ZoneInfo(machine.timezone)).date()
                days_rebuild_later(report.days, before=local_today, with_caller=True, punches=True)
                if realtime and report.new and len(punches) <= 5:
                    newest = max(p.local_time for p in punches)
                    machines.clock_observe(machine, newest, now)
    except DatabaseError as exc:
        MachineUpload.objects.filter(pk=upload.pk).update(
            state=MachineUpload.State.FAILED, error=str(exc)[:255]
        )
        raise
    if dry_run:
        upload_finish(upload, report, dry_run=True)
    return report


def upload_finish(upload: MachineUpload, report: IngestReport, *, dry_run: bool = False) -> None:
    upload.state = MachineUpload.State.DRY_RUN if dry_run else MachineUpload.State.PROCESSED
    upload.lines = report.lines
    upload.new = report.new  # in a dry run: how many would be new
    upload.duplicates = report.duplicates
    upload.unmapped = report.unmapped
    upload.rejected = report.rejected
    upload.problems = report.problems[:2000]
    upload.save(
        update_fields=["state", "lines", "new", "duplicates", "unmapped", "rejected", "problems"]
    )


def unmapped_attach(*, machine: Machine | None, pin: str, now: datetime) -> int:
    """After a PIN is mapped, enter the punches kept for it in the ledger."""
    waiting = (
        MachinePunch.objects.filter(pin=pin)
        .exclude(problem="")
        .select_related("machine__unit", "upload")
    )
    if machine is not None:
        waiting = waiting.filter(machine=machine)
    attached = 0
    days: set[tuple[int, date]] = set()
    by_machine: dict[int, list[MachinePunch]] = {}
    for punch in waiting:
        by_machine.setdefault(punch.machine_id, []).append(punch)
    for rows in by_machine.values():
        owner = rows[0].machine
        employee = pins_resolve(owner, [pin]).get(pin)
        if employee is None:
            continue
        local_days = {r.taken_at.astimezone(ZoneInfo(owner.timezone)).date() for r in rows}
        belongs = _in_opd(owner, {(employee, day) for day in local_days})
        events = []
        for row in rows:
            day = row.taken_at.astimezone(ZoneInfo(owner.timezone)).date()
            row.employee_id = employee
            row.problem = "" if (employee, day) in belongs else MachinePunch.Problem.OTHER_OPD
            if not row.problem:
                events.append(
                    _event(owner, row, employee, received_at=row.upload.received_at, held=False)
                )
                days.add((employee, day))
        MachinePunch.objects.bulk_update(rows, ["employee", "problem"], batch_size=BATCH)
        CheckinEvent.objects.bulk_create(events, batch_size=BATCH, ignore_conflicts=True)
        attached += len(events)
    days_rebuild_later(days, before=timezone.localdate(now), punches=True)
    return attached
