"""The attendance-machine registry: who a calling serial is, which network it may call from,
its tamper and health flags, PIN mappings and the allow-listed command queue.

Writes here are services (one transaction, one audit row). What a machine *sends* is parsed
in ``iclock`` and turned into ledger events in ``punches``.
"""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.audit.services import audit_record
from tepat.org.models import Employee, Unit, WorkSite
from tepat.presence import attendance, iclock
from tepat.presence.models import (
    CheckinEvent,
    CheckinReview,
    Machine,
    MachineCommand,
    MachineFlag,
    MachinePunch,
    PinMapping,
)
from tepat.presence.services import presence_policy_on
from tepat.rules import calendar as cal
from tepat.rules.schedule import calendar_day

# Technical limits of the server itself. The health thresholds a regency sets (silence, watch
# hours, clock error) are policy data: ``health_limits``.
CONTACT_WRITE_EVERY = timedelta(seconds=60)  # a poll every 3-8 s must not write every time
MAX_QUARANTINED = 200  # unknown serials recorded at most; beyond this they are only answered
NEW_NETWORK_FLAG = "machine_new_network"  # risk flag on an event held for review


@dataclass(frozen=True)
class HealthLimits:
    silent_after: timedelta  # no call for this long in the watch hours: offline
    watch_from: time  # the watch hours, in the machine's own zone, on its unit's working days
    watch_until: time
    clock_drift_max: timedelta  # Realtime=1: a punch arrives seconds after it happens


def health_limits(now: datetime) -> HealthLimits:
    """The machine-health thresholds of the presence policy in force on the day (BKPSDM
    edits them in the policy, without a deploy; Tepat's defaults before the first)."""
    policy = presence_policy_on(now)
    return HealthLimits(
        silent_after=timedelta(minutes=policy.machine_silent_after_min),
        watch_from=policy.machine_watch_from,
        watch_until=policy.machine_watch_until,
        clock_drift_max=timedelta(seconds=policy.machine_clock_drift_max_s),
    )


def silent_after(now: datetime) -> timedelta:
    """How long a machine may stay silent before it shows as offline, by today's policy."""
    return health_limits(now).silent_after


def network_of(ip: str | None) -> str:
    """The network an address belongs to, as machines are seen behind an office NAT: the
    IPv4 /24 or IPv6 /48 (an ISP re-dialling inside its pool does not raise a flag)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def zone(machine: Machine) -> ZoneInfo:
    return ZoneInfo(machine.timezone)


def timezone_hours(machine: Machine) -> int:
    offset = datetime(2026, 1, 1, tzinfo=ZoneInfo(machine.timezone)).utcoffset()
    return int((offset or timedelta()).total_seconds() // 3600)


# --- Flags ---------------------------------------------------------------------------------


def flag_raise(machine: Machine, kind: str, detail: str, *, now: datetime) -> MachineFlag | None:
    """Raise a flag unless the same one is already open (a machine polling every few seconds
    from a new network raises it once)."""
    detail = iclock.printable(detail, 255)
    if MachineFlag.objects.filter(
        machine=machine, kind=kind, detail=detail, resolved_at__isnull=True
    ).exists():
        return None
    flag = MachineFlag.objects.create(
        machine=machine, kind=kind, detail=detail[:255], raised_at=now
    )
    audit_record(actor=None, action=f"machine.flag.{kind}", obj=machine, summary=detail[:255])
    return flag


@transaction.atomic
def flag_resolve(
    *, actor: Any, flag: MachineFlag, reason: str, confirm_network: bool = False
) -> MachineFlag:
    """Close a flag. For a new network, ``confirm_network`` adds it to the machine's networks
    and accepts the punches held for review because of it (one review row each)."""
    if not reason.strip():
        raise ValidationError(_("A reason is required."))
    flag = MachineFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.resolved_at is not None:
        return flag
    machine = Machine.objects.select_for_update().get(pk=flag.machine_id)
    accepted = 0
    if confirm_network and flag.kind == MachineFlag.Kind.NEW_NETWORK:
        if flag.detail not in machine.networks:
            machine.networks = [*machine.networks, flag.detail]
            machine.save(update_fields=["networks"])
        accepted = _held_events_accept(actor, machine, flag.detail, reason)
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor
    flag.resolution = reason.strip()[:255]
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        actor=actor,
        action="machine.flag.resolve",
        obj=machine,
        summary=f"{flag.kind} {flag.detail}"[:255],
        after={"confirm_network": confirm_network, "events_accepted": accepted},
        reason=reason,
    )
    return flag


def _held_events_accept(actor: Any, machine: Machine, network: str, reason: str) -> int:
    from tepat.presence.tasks import days_rebuild_later

    held = list(
        CheckinEvent.objects.filter(
            source=CheckinEvent.Source.MACHINE,
            status=CheckinEvent.Status.REVIEW,
            reviews__isnull=True,
            payload__sn=machine.serial,
            payload__network=network,
        )
    )
    CheckinReview.objects.bulk_create(
        [
            CheckinReview(event=e, decision="accept", reviewer=actor, reason=reason.strip())
            for e in held
        ]
    )
    days_rebuild_later(
        {(e.employee_id, timezone.localtime(e.taken_at, ZoneInfo(machine.timezone)).date())
         for e in held},
        punches=True,
    )  # fmt: skip
    return len(held)


# --- Who is calling ------------------------------------------------------------------------


def machine_contact(
    *,
    serial: str,
    ip: str | None,
    now: datetime,
    comm_key: str | None = None,
    handshake: bool = False,
) -> Machine | None:
    """The machine behind a request, after noting the contact. An unknown serial is recorded
    as quarantined (up to MAX_QUARANTINED) and returned as such; an invalid one gives None."""
    if not iclock.serial_valid(serial):
        return None
    machine = Machine.objects.filter(serial=serial).first()
    if machine is None:
        return _quarantine(serial, ip, now)
    network = network_of(ip)
    updates: dict[str, Any] = {}
    if (
        machine.last_contact_at is None
        or now - machine.last_contact_at >= CONTACT_WRITE_EVERY
        or machine.last_ip != ip
    ):
        updates |= {"last_contact_at": now, "last_ip": ip}
    if machine.status == Machine.Status.ACTIVE and network:
        key_ok = bool(machine.comm_key_hash) and hmac.compare_digest(
            machine.comm_key_hash, secret_hash(comm_key or "")
        )
        if handshake and machine.comm_key_hash and not key_ok:
            flag_raise(machine, MachineFlag.Kind.BAD_KEY, network, now=now)
        if network not in machine.networks:
            if not machine.networks or (handshake and key_ok):
                # Trust on first use after acceptance; later, only the device key vouches.
                updates["networks"] = [*machine.networks, network]
            else:
                flag_raise(machine, MachineFlag.Kind.NEW_NETWORK, network, now=now)
    if updates:
        Machine.objects.filter(pk=machine.pk).update(**updates)
        for name, value in updates.items():
            setattr(machine, name, value)
    return machine


def _quarantine(serial: str, ip: str | None, now: datetime) -> Machine | None:
    if Machine.objects.filter(status=Machine.Status.QUARANTINED).count() >= MAX_QUARANTINED:
        return None
    try:
        with transaction.atomic():
            machine = Machine.objects.create(
                serial=serial,
                status=Machine.Status.QUARANTINED,
                last_contact_at=now,
                last_ip=ip,
            )
            audit_record(
                actor=None,
                action="machine.quarantine",
                obj=machine,
                summary=f"{serial} {network_of(ip)}",
                ip_address=ip,
            )
    except IntegrityError:  # two first calls at once
        return Machine.objects.filter(serial=serial).first()
    return machine


def network_trusted(machine: Machine) -> bool:
    """Whether the machine's latest call came from a network confirmed for it."""
    return network_of(machine.last_ip) in machine.networks


# --- Registry (back office) ----------------------------------------------------------------


def _require_manager(actor: Any, unit: Unit | None) -> None:
    access.require_role(actor, access.MACHINE_MANAGER_ROLES)
    if unit is not None and not access.units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("This unit belongs to another OPD."))


@transaction.atomic
def machine_register(
    *,
    actor: Any,
    serial: str,
    unit: Unit,
    site: WorkSite | None = None,
    zone: str = "",
    name: str = "",
    vendor: str = Machine.Vendor.ZKTECO,
) -> Machine:
    """Accept a quarantined serial into a unit, or register one before it first calls. The
    OPD operator types the serial off the machine's label: they never see other OPDs'
    quarantined serials."""
    _require_manager(actor, unit)
    serial = serial.strip()
    if not iclock.serial_valid(serial):
        raise ValidationError(_("A serial number is 1–64 letters, digits, - or _."))
    if site is not None and site.unit_id != unit.pk:
        raise ValidationError(_("The work site must belong to the unit."))
    machine = Machine.objects.select_for_update().filter(serial=serial).first()
    if machine is not None and machine.status != Machine.Status.QUARANTINED:
        raise ValidationError(_("This serial number is already registered."))
    before = None if machine is None else {"status": machine.status}
    if machine is None:
        machine = Machine(serial=serial)
    machine.status = Machine.Status.ACTIVE
    machine.vendor = vendor
    machine.unit = unit
    machine.site = site
    machine.timezone = zone or (site.timezone if site else "Asia/Jakarta")
    machine.name = name.strip()[:200]
    machine.accepted_by = actor
    machine.accepted_at = timezone.now()
    # The network it called from while quarantined is the one the operator vouches for.
    machine.networks = [network_of(machine.last_ip)] if machine.last_ip else []
    machine.save()
    audit_record(
        actor=actor,
        action="machine.register",
        obj=machine,
        before=before,
        after={"unit": unit.code, "timezone": machine.timezone, "networks": machine.networks},
    )
    return machine


@transaction.atomic
def machine_retire(*, actor: Any, machine: Machine, reason: str) -> Machine:
    _require_manager(actor, machine.unit)
    if not reason.strip():
        raise ValidationError(_("A reason is required."))
    before = machine.status
    machine.status = Machine.Status.RETIRED
    machine.save(update_fields=["status"])
    MachineCommand.objects.filter(machine=machine, state=MachineCommand.State.QUEUED).update(
        state=MachineCommand.State.FAILED, result={"note": "machine retired"}
    )
    audit_record(
        actor=actor,
        action="machine.retire",
        obj=machine,
        before={"status": before},
        after={"status": machine.status},
        reason=reason,
    )
    return machine


@transaction.atomic
def machine_secret_issue(*, actor: Any, machine: Machine, kind: str) -> str:
    """A new device key (``pushcommkey``) or Fingerspot webhook secret; only its hash is
    stored, the raw value is shown once."""
    _require_manager(actor, machine.unit)
    raw = secrets.token_hex(16)
    field = "comm_key_hash" if kind == "comm_key" else "webhook_secret_hash"
    setattr(machine, field, secret_hash(raw))
    machine.save(update_fields=[field])
    audit_record(actor=actor, action=f"machine.secret.{kind}", obj=machine)
    return raw


# --- PIN mapping ---------------------------------------------------------------------------


@transaction.atomic
def pin_map(
    *, actor: Any, machine: Machine | None, pin: str, employee: Employee, now: datetime
) -> PinMapping:
    """Map a device PIN to an employee (for one machine, or regency-wide). Re-mapping a PIN
    that already pointed at someone else raises a flag: it is how a buddy punches for a
    colleague. Punches already kept unmapped for that PIN are then entered in the ledger."""
    from tepat.presence.punches import unmapped_attach

    if machine is not None:
        _require_manager(actor, machine.unit)
    else:
        access.require_org_writer(actor)
    pin = pin.strip()
    if not iclock.pin_valid(pin):
        raise ValidationError(_("A PIN is 1–24 letters or digits."))
    mapping = PinMapping.objects.select_for_update().filter(machine=machine, pin=pin).first()
    before = None
    if mapping is None:
        mapping = PinMapping.objects.create(
            machine=machine, pin=pin, employee=employee, created_by=actor
        )
    elif mapping.employee_id != employee.pk:
        before = {"employee": mapping.employee_id}
        for flagged in [machine] if machine else Machine.objects.filter(status="active"):
            flag_raise(
                flagged,
                MachineFlag.Kind.PIN_REMAP,
                f"PIN {pin}: {mapping.employee_id} → {employee.pk}",
                now=now,
            )
        mapping.employee = employee
        mapping.created_by = actor
        mapping.save(update_fields=["employee", "created_by"])
    audit_record(
        actor=actor,
        action="machine.pin_map",
        obj=mapping,
        before=before,
        after={
            "machine": machine.serial if machine else None,
            "pin": pin,
            "employee": employee.nip,
        },
    )
    unmapped_attach(machine=machine, pin=pin, now=now)
    return mapping


# --- Commands ------------------------------------------------------------------------------


@transaction.atomic
def command_queue(
    *,
    actor: Any,
    machine: Machine,
    text: str,
    system: bool = False,
    not_before: datetime | None = None,
    employee: Employee | None = None,
) -> MachineCommand:
    """Queue one command. Only allow-listed verbs pass ``iclock.command_kind`` (never SHELL,
    PutFile, GetFile, UPGRADE or CLEAR); rebooting and options are for BKPSDM only. With
    ``not_before``, no poll gets it before that moment."""
    if not system:
        _require_manager(actor, machine.unit)
    try:
        kind = iclock.command_kind(text)
    except iclock.CommandRefused as exc:
        raise ValidationError(_("Command refused: %(why)s") % {"why": exc}) from None
    if kind in iclock.ADMIN_ONLY and not system:
        access.require_org_writer(actor)
    if machine.status != Machine.Status.ACTIVE:
        raise ValidationError(_("Commands go only to an active machine."))
    command = MachineCommand.objects.create(
        machine=machine,
        kind=kind,
        text=text,
        author=actor,
        not_before=not_before,
        employee=employee,
    )
    audit_record(
        actor=actor, action="machine.command", obj=machine, summary=f"{command.pk} {text[:200]}"
    )
    return command


def _pin_on(machine: Machine, employee: Employee) -> str:
    """The PIN an employee has on a machine: its own mapping, else the regency's, else the
    NIP (the order ``punches.pins_resolve`` reads them back in)."""
    pins: dict[int | None, str] = dict(
        PinMapping.objects.filter(employee=employee)
        .filter(Q(machine=machine) | Q(machine__isnull=True))
        .values_list("machine_id", "pin")
    )
    return pins.get(machine.pk) or pins.get(None) or employee.nip


def users_move_queue(
    *, actor: Any, employee: Employee, left: Unit | None, joined: Unit | None, start: date
) -> int:
    """An employee joins a unit or moves between units: queue ``DATA UPDATE USERINFO`` on the
    active push machines of the unit joined and ``DATA DELETE USERINFO`` on those of the unit
    left, so no operator walks to every machine. Both are held until the first day of the
    move (midnight in the machine's zone): until then the employee punches at the old office.
    Runs inside the transfer's transaction; returns how many commands were queued.

    An employee who comes back to a unit before the removal from it was sent (a transfer
    reverted by another) keeps their user record there: the held ``DATA DELETE USERINFO``
    is cancelled, not sent, since it would erase the fingerprints enrolled on that machine."""
    if left is not None and joined is not None and left.pk == joined.pk:
        return 0
    units = [u.pk for u in (left, joined) if u is not None]
    queued = 0
    for machine in Machine.objects.filter(
        unit__in=units, status=Machine.Status.ACTIVE, vendor=Machine.Vendor.ZKTECO
    ).order_by("pk"):
        pin = _pin_on(machine, employee)
        joins = joined is not None and machine.unit_id == joined.pk
        try:
            if joins:
                text = iclock.user_update_command(pin, employee.name[:24])
            else:
                text = iclock.user_delete_command(pin)
        except iclock.CommandRefused:
            continue  # a PIN or name no machine can take: the operator enrols by hand
        not_before = datetime.combine(start, time(0), tzinfo=zone(machine))
        command = command_queue(
            actor=actor,
            machine=machine,
            text=text,
            system=True,
            not_before=not_before,
            employee=employee,
        )
        if joins:
            _commands_cancel(
                actor,
                MachineCommand.objects.filter(
                    machine=machine, employee=employee, kind="user_delete"
                ).exclude(pk=command.pk),
                f"the employee is back on this machine from {start.isoformat()} "
                f"(command {command.pk})",
            )
        queued += 1
    return queued


def _commands_cancel(actor: Any, commands: Any, note: str) -> int:
    """Cancel the still-queued commands among ``commands``: kept with the state, who and why
    (one audit row each), never deleted. One already sent cannot be called back."""
    cancelled = 0
    for command in commands.select_for_update(of=("self",)).filter(
        state=MachineCommand.State.QUEUED
    ):
        command.state = MachineCommand.State.CANCELLED
        command.result = {"note": note[:255], "cancelled_by": getattr(actor, "pk", None)}
        command.save(update_fields=["state", "result"])
        audit_record(
            actor=actor,
            action="machine.command.cancel",
            obj=command.machine,
            summary=f"{command.pk} {command.text[:150]}",
            reason=note,
        )
        cancelled += 1
    return cancelled


def user_commands_cancel(*, actor: Any, employee: Employee, start: date, reason: str) -> int:
    """A move from ``start`` was cancelled before it took effect: its held DATA UPDATE/DELETE
    USERINFO commands are cancelled (recorded, with the reason). Runs inside the caller's
    transaction; returns how many were cancelled."""
    held = [
        command.pk
        for command in MachineCommand.objects.filter(
            employee=employee,
            kind__in=("user_update", "user_delete"),
            state=MachineCommand.State.QUEUED,
        ).select_related("machine")
        if command.not_before == datetime.combine(start, time(0), tzinfo=zone(command.machine))
    ]
    return _commands_cancel(
        actor,
        MachineCommand.objects.filter(pk__in=held).select_related("machine").order_by("pk"),
        f"move of {start.isoformat()} cancelled: {reason.strip()}",
    )


def commands_due(machine: Machine, now: datetime) -> list[MachineCommand]:
    """The commands a poll delivers, marked sent. A poll from an unconfirmed network gets
    none: a spoofed serial must not drain the queue (or read the names in it)."""
    if machine.status != Machine.Status.ACTIVE or not network_trusted(machine):
        return []
    with transaction.atomic():
        due = list(
            MachineCommand.objects.select_for_update(skip_locked=True)
            .filter(machine=machine, state=MachineCommand.State.QUEUED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("id")[: iclock.MAX_COMMANDS_PER_POLL]
        )
        MachineCommand.objects.filter(pk__in=[c.pk for c in due]).update(
            state=MachineCommand.State.SENT, sent_at=now
        )
    return due


def command_results_record(
    machine: Machine, results: list[iclock.CommandResult], now: datetime
) -> int:
    """Store the results a machine posted to devicecmd; a VERIFY SUM is compared with what
    Tepat holds for that window, and a shortfall queues a DATA QUERY ATTLOG for it."""
    stored = 0
    for result in results:
        if not result.cmd_id.isdigit():
            continue
        command = MachineCommand.objects.filter(machine=machine, pk=int(result.cmd_id)).first()
        if command is None:
            continue
        with transaction.atomic():
            command.state = (
                MachineCommand.State.DONE if result.ret == 0 else MachineCommand.State.FAILED
            )
            command.done_at = now
            command.return_code = result.ret
            command.result = {"cmd": result.cmd, **result.fields, "lines": result.lines[:50]}
            command.save(update_fields=["state", "done_at", "return_code", "result"])
            if command.kind == "verify_sum" and result.ret == 0:
                _verify_sum_compare(machine, result, now)
            if command.kind == "info" and result.ret == 0:
                info_record(machine, dict(iclock.parse_fields("\t".join(result.lines))), now)
        stored += 1
    return stored


def _verify_sum_compare(machine: Machine, result: iclock.CommandResult, now: datetime) -> None:
    window = iclock.window_of(result.fields)
    try:
        on_machine = int(result.fields.get("AttLogSum", ""))
    except ValueError:
        return
    if window is None:
        return
    held = MachinePunch.objects.filter(
        machine=machine, device_time__gte=window[0], device_time__lte=window[1]
    ).count()
    if on_machine > held:
        flag_raise(
            machine,
            MachineFlag.Kind.COUNT_MISMATCH,
            f"{window[0]}–{window[1]}: {on_machine} on the machine, {held} in Tepat",
            now=now,
        )
        start, end = iclock.parse_time(window[0]), iclock.parse_time(window[1])
        text = iclock.attlog_query_command(start, end)
        command_queue(actor=None, machine=machine, text=text, system=True)


# --- What the machine reports about itself -------------------------------------------------


def device_options_record(machine: Machine, options: dict[str, str]) -> None:
    Machine.objects.filter(pk=machine.pk).update(device_options=options)


def info_record(machine: Machine, info: dict[str, str], now: datetime) -> None:
    """getrequest's INFO: a falling punch count is a tamper signal (logs deleted)."""
    before = machine.info.get("punches", "")
    after = info.get("punches", "")
    if before.isdigit() and after.isdigit() and int(after) < int(before):
        flag_raise(machine, MachineFlag.Kind.RECORDS_DROPPED, f"{before} → {after}", now=now)
    if info != machine.info:
        machine.info = {**machine.info, **info}
        Machine.objects.filter(pk=machine.pk).update(info=machine.info)


TAMPER_FLAGS = {
    iclock.OP_SET_TIME: MachineFlag.Kind.TIME_SET,
    iclock.OP_FACTORY_RESET: MachineFlag.Kind.FACTORY_RESET,
    iclock.OP_DELETE_LOGS: MachineFlag.Kind.LOGS_DELETED,
}


def operlog_record(machine: Machine, batch: iclock.Operlog, now: datetime) -> None:
    """OPLOG tamper codes raise flags; USER rows keep the machine's PIN → name list, and a
    PIN that changes to another person's name raises a flag."""
    for op in batch.oplogs:
        kind = TAMPER_FLAGS.get(op.op_type)
        if kind is not None:
            detail = f"OPLOG {op.op_type} {op.time_text} operator {op.operator}"
            flag_raise(machine, kind, detail, now=now)
    if not batch.users:
        return
    enrolled = dict(machine.enrolled)
    for user in batch.users:
        old = enrolled.get(user.pin)
        if old and user.name and old.strip().casefold() != user.name.strip().casefold():
            flag_raise(
                machine, MachineFlag.Kind.PIN_REMAP, f"PIN {user.pin}: {old} → {user.name}", now=now
            )
        if user.name or old is None:
            enrolled[user.pin] = user.name
    machine.enrolled = enrolled
    Machine.objects.filter(pk=machine.pk).update(enrolled=enrolled)


def clock_observe(machine: Machine, newest_local: datetime, received_at: datetime) -> None:
    """Realtime=1 sends each punch seconds after it happens, so for a small batch the gap
    between arrival and the newest punch is the machine's clock error (plus transit)."""
    moment = newest_local.replace(tzinfo=ZoneInfo(machine.timezone))
    offset = int((received_at - moment).total_seconds())
    Machine.objects.filter(pk=machine.pk).update(clock_offset_s=offset)
    machine.clock_offset_s = offset
    # Only a clock running ahead is certain: a punch "from the future". One behind looks
    # exactly like a punch uploaded late, which is normal after an outage.
    if offset < 0 and -offset > health_limits(received_at).clock_drift_max.total_seconds():
        flag_raise(machine, MachineFlag.Kind.CLOCK_DRIFT, _drift_text(offset), now=received_at)


def _drift_text(offset: int) -> str:
    return f"{'ahead' if offset < 0 else 'behind'} by {abs(offset) // 60} min {abs(offset) % 60} s"


# --- Nightly and periodic checks -----------------------------------------------------------


def machines_silent(now: datetime) -> list[Machine]:
    """Active push machines that have not called for the policy's silence limit, during its
    watch hours in their own zone, on a working day of their site's people (a machine
    switched off at night, on a Sunday or on a holiday is not a signal)."""
    limits = health_limits(now)
    found = []
    for machine in (
        Machine.objects.filter(status=Machine.Status.ACTIVE, vendor=Machine.Vendor.ZKTECO)
        .filter(Q(last_contact_at__lt=now - limits.silent_after) | Q(last_contact_at__isnull=True))
        .select_related("unit", "site__unit")
    ):
        local = now.astimezone(ZoneInfo(machine.timezone))
        if limits.watch_from <= local.time() <= limits.watch_until:
            found.append(machine)
    watched = _watch_days(found, now)
    return [m for m in found if watched.get(m.pk, False)]


# A unit with nobody assigned (or no hours set) is watched on the office week.
_DEFAULT_WATCH_WEEK = frozenset(range(5))


def _watch_days(found: list[Machine], now: datetime) -> dict[int, bool]:
    """Whether today, in each machine's zone, is a working day at its unit: by the work
    calendar of the unit's kind (a school's holidays) for any schedule in force for the people
    assigned there or to its sub-units (a six-day school works Saturdays; a national holiday
    or a cuti bersama is nobody's working day). A fixed number of queries per local day."""
    by_day: dict[date, list[tuple[Machine, Unit | None]]] = {}
    for machine in found:
        unit = machine.unit or (machine.site.unit if machine.site else None)
        by_day.setdefault(now.astimezone(ZoneInfo(machine.timezone)).date(), []).append(
            (machine, unit)
        )
    watched: dict[int, bool] = {}
    for day, machines in by_day.items():
        unit_ids = {unit.pk for _machine, unit in machines if unit is not None}
        groups: dict[int, set[int]] = {}
        for unit_id, parent_id, group_id in (
            access.current_assignments(day)
            .filter(Q(unit_id__in=unit_ids) | Q(unit__parent_id__in=unit_ids))
            .filter(schedule_group__isnull=False, employee__active=True)
            .values_list("unit_id", "unit__parent_id", "schedule_group_id")
            .distinct()
        ):
            for target in (unit_id, parent_id):
                if target in unit_ids:
                    groups.setdefault(target, set()).add(group_id)
        schedules = attendance.schedules_in_force(set().union(*groups.values()), day)
        calendars: dict[cal.CalendarKind, cal.WorkCalendar] = {}
        for machine, unit in machines:
            kind: cal.CalendarKind = (
                "school" if unit is not None and unit.kind == Unit.Kind.SEKOLAH else "office"
            )
            if kind not in calendars:
                calendars[kind] = attendance.work_calendar(kind, day)
            in_force = [
                schedules[g][1] for g in groups.get(unit.pk if unit else 0, ()) if g in schedules
            ]
            if in_force:
                watched[machine.pk] = any(
                    calendar_day(calendars[kind], schedule, day).is_working_day
                    for schedule in in_force
                )
            else:
                info = calendars[kind].day_kind(day, workdays=_DEFAULT_WATCH_WEEK)
                watched[machine.pk] = info.is_working_day
    return watched


def machines_check(now: datetime, *, reconcile_day: date | None = None) -> dict[str, int]:
    """Raise SILENT flags; with ``reconcile_day``, queue a VERIFY SUM ATTLOG for that local
    day on every active push machine (the nightly reconciliation, devices.md §8)."""
    silent = 0
    for machine in machines_silent(now):
        last = machine.last_contact_at
        detail = "never called" if last is None else f"last call {last:%Y-%m-%d %H:%M} UTC"
        silent += flag_raise(machine, MachineFlag.Kind.SILENT, detail, now=now) is not None
    queued = 0
    if reconcile_day is not None:
        start = datetime.combine(reconcile_day, time(0))
        end = datetime.combine(reconcile_day, time(23, 59, 59))
        text = iclock.verify_sum_command(start, end)
        for machine in Machine.objects.filter(
            status=Machine.Status.ACTIVE, vendor=Machine.Vendor.ZKTECO
        ):
            command_queue(actor=None, machine=machine, text=text, system=True)
            queued += 1
    return {"silent": silent, "verify_sum": queued}
