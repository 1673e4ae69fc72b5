"""Back-office pages for attendance machines, under /presensi/mesin/: the registry (and
accepting a quarantined serial), one machine's flags, unreadable lines, unmapped PINs and
commands, the USB file import, and the list of open flags.

Every machine is fetched from ``access.machines_visible_to`` (OPD operators see their OPD's
only; another OPD's machine is a 404) and every change needs ``machines_manageable_by``.
"""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tepat.accounts import access
from tepat.accounts.models import AuthedRequest
from tepat.org.models import TIME_ZONES, Unit
from tepat.presence import iclock, machines, usb_import
from tepat.presence.models import (
    Machine,
    MachineFlag,
    MachinePunch,
    MachineUpload,
)

STAFF_ROLES = frozenset({"operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin"})


class RegisterForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("Serial number"), max_length=64)
    unit: "forms.ModelChoiceField[Unit]" = forms.ModelChoiceField(
        label=gettext_lazy("Unit"), queryset=Unit.objects.none()
    )
    zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=TIME_ZONES)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    vendor = forms.ChoiceField(label=gettext_lazy("Protocol"), choices=Machine.Vendor.choices)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = access.units_visible_to(user).order_by("name")  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def machine_list(request: AuthedRequest) -> HttpResponse:
    """Every machine the user may see, with its last call and open flags; a manager registers
    a serial here (or accepts a quarantined one by typing it off the machine's label)."""
    access.require_role(request.user, STAFF_ROLES)
    form = RegisterForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if not form.is_valid():
            return _list_page(request, form, status=400)
        data = form.cleaned_data
        try:
            machine = machines.machine_register(
                actor=request.user,
                serial=data["serial"],
                unit=data["unit"],
                zone=data["zone"],
                name=data["name"],
                vendor=data["vendor"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return _list_page(request, form, status=400)
        messages.success(request, _("Machine %(serial)s is active.") % {"serial": machine.serial})
        return redirect("presence_office:machine_detail", machine_id=machine.pk)
    return _list_page(request, form)


def _list_page(request: AuthedRequest, form: RegisterForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    rows = (
        access.machines_visible_to(request.user)
        .select_related("unit__opd", "site")
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        .order_by("status", "unit__opd__name", "serial")
    )
    return render(
        request,
        "presence/machine_list.html",
        {
            "machines": rows[:500],
            "form": form,
            "can_manage": request.user.role in access.MACHINE_MANAGER_ROLES,
            "offline_before": now - machines.silent_after(now),
        },
        status=status,
    )


class FlagForm(forms.Form):
    flag = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255)
    confirm_network = forms.BooleanField(required=False)


class PinForm(forms.Form):
    pin = forms.CharField(label=gettext_lazy("PIN"), max_length=24)
    nip = forms.CharField(label=gettext_lazy("Employee NIP"), max_length=18)


COMMAND_CHOICES = [
    ("check", gettext_lazy("Re-read options (CHECK)")),
    ("log", gettext_lazy("Upload new punches now (LOG)")),
    ("info", gettext_lazy("Report device info (INFO)")),
    ("verify_sum", gettext_lazy("Count yesterday's punches (VERIFY SUM)")),
    ("attlog_query", gettext_lazy("Resend yesterday's punches (DATA QUERY ATTLOG)")),
    ("users_push", gettext_lazy("Send the unit's employees to the machine (PIN = NIP)")),
    ("reboot", gettext_lazy("Reboot (BKPSDM only)")),
]


class CommandForm(forms.Form):
    command = forms.ChoiceField(label=gettext_lazy("Command"), choices=COMMAND_CHOICES)


def _command_texts(machine: Machine, kind: str) -> list[str]:
    """The allow-listed command lines for a choice; never free text from the page."""
    local_today = timezone.now().astimezone(machines.zone(machine)).date()
    day = datetime.combine(local_today - timedelta(days=1), datetime.min.time())
    window = (day, day.replace(hour=23, minute=59, second=59))
    if kind == "verify_sum":
        return [iclock.verify_sum_command(*window)]
    if kind == "attlog_query":
        return [iclock.attlog_query_command(*window)]
    if kind == "users_push":
        assert machine.unit is not None
        today = timezone.localdate()
        people = access.current_assignments(today).filter(unit=machine.unit)
        return [
            iclock.user_update_command(a.employee.nip, a.employee.name[:24])
            for a in people.select_related("employee").order_by("employee__nip")
        ]
    return [kind.upper()]


@login_required
@require_http_methods(["GET", "POST"])
def machine_detail(request: AuthedRequest, machine_id: int) -> HttpResponse:
    machine = get_object_or_404(
        access.machines_visible_to(request.user).select_related("unit__opd", "site"),
        pk=machine_id,
    )
    can_manage = access.machines_manageable_by(request.user).filter(pk=machine.pk).exists()
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("Your role may not change this machine."))
        try:
            _act(request, machine)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("presence_office:machine_detail", machine_id=machine.pk)
    uploads = MachineUpload.objects.filter(machine=machine).defer("body")
    unmapped = (
        MachinePunch.objects.filter(machine=machine)
        .exclude(problem="")
        .values("pin", "problem")
        .annotate(n=Count("id"))
        .order_by("pin")
    )
    return render(
        request,
        "presence/machine_detail.html",
        {
            "machine": machine,
            "device_label": " ".join(
                filter(
                    None,
                    [
                        machine.device_options.get("DeviceName"),
                        machine.device_options.get("FirmVer") or machine.info.get("firmware"),
                    ],
                )
            ),
            "can_manage": can_manage,
            "flags": machine.flags.filter(resolved_at__isnull=True),
            "problem_uploads": uploads.exclude(problems=[]).order_by("-received_at")[:20],
            "uploads": uploads.order_by("-received_at")[:20],
            "unmapped": unmapped[:200],
            "commands": machine.commands.all()[:30],
            "flag_form": FlagForm(),
            "pin_form": PinForm(),
            "command_form": CommandForm(),
        },
    )


def _act(request: AuthedRequest, machine: Machine) -> None:
    """One change from the detail page, chosen by the ``action`` field."""
    action = request.POST.get("action", "")
    now = timezone.now()
    if action == "resolve_flag":
        form = FlagForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("A reason is required."))
        flag = get_object_or_404(machine.flags.all(), pk=form.cleaned_data["flag"])
        machines.flag_resolve(
            actor=request.user,
            flag=flag,
            reason=form.cleaned_data["reason"],
            confirm_network=form.cleaned_data["confirm_network"],
        )
        messages.success(request, _("The flag was resolved."))
    elif action == "map_pin":
        pin_form = PinForm(request.POST)
        if not pin_form.is_valid():
            raise ValidationError(_("Enter a PIN and an employee NIP."))
        employee = (
            access.employees_visible_to(request.user)
            .filter(nip=pin_form.cleaned_data["nip"].strip())
            .first()
        )
        if employee is None:
            raise ValidationError(_("No employee you may see has this NIP."))
        machines.pin_map(
            actor=request.user,
            machine=machine,
            pin=pin_form.cleaned_data["pin"],
            employee=employee,
            now=now,
        )
        messages.success(request, _("The PIN is mapped."))
    elif action == "queue":
        command_form = CommandForm(request.POST)
        if not command_form.is_valid():
            raise ValidationError(_("Choose a command."))
        texts = _command_texts(machine, command_form.cleaned_data["command"])
        for text in texts:
            machines.command_queue(actor=request.user, machine=machine, text=text)
        messages.success(request, _("%(n)d command(s) queued.") % {"n": len(texts)})
    elif action == "retire":
        machines.machine_retire(
            actor=request.user, machine=machine, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("The machine is retired."))
    elif action in ("comm_key", "webhook_secret"):
        raw = machines.machine_secret_issue(actor=request.user, machine=machine, kind=action)
        messages.warning(
            request, _("Write this down now; it is not shown again: %(secret)s") % {"secret": raw}
        )
    else:
        raise ValidationError(_("Unknown action."))


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("attlog.dat file"))
    dry_run = forms.BooleanField(label=gettext_lazy("Check only (dry run)"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def machine_import(request: AuthedRequest, machine_id: int) -> HttpResponse:
    """Upload the attendance file exported from the machine to a USB stick."""
    machine = get_object_or_404(access.machines_manageable_by(request.user), pk=machine_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = usb_import.attlog_file_import(
                    actor=request.user,
                    machine=machine,
                    content=upload.read(usb_import.MAX_FILE + 1),
                    filename=upload.name or "",
                    now=timezone.now(),
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ValidationError as exc:
                form.add_error("file", exc)
                status = 400
        else:
            status = 400
    return render(
        request,
        "presence/machine_import.html",
        {"machine": machine, "form": form, "result": result},
        status=status,
    )


@login_required
@require_GET
def machine_flags(request: AuthedRequest) -> HttpResponse:
    """Open tamper and health signals on the machines the user may see."""
    access.require_role(request.user, STAFF_ROLES)
    flags = (
        MachineFlag.objects.filter(
            machine__in=access.machines_visible_to(request.user), resolved_at__isnull=True
        )
        .select_related("machine__unit")
        .order_by("-raised_at")
    )
    silent = machines.machines_silent(timezone.now())
    visible = set(access.machines_visible_to(request.user).values_list("pk", flat=True))
    return render(
        request,
        "presence/machine_flags.html",
        {
            "flags": flags[:500],
            "silent": [m for m in silent if m.pk in visible],
        },
    )
