"""Back office for e-Presensi. The ledger is read-only here; policy edits are audited."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import User
from tepat.accounts.throttle import client_ip
from tepat.admin_readonly import ReadOnlyAdmin
from tepat.audit.services import audit_record
from tepat.presence.absences import leave_policy_version_save, period_lock
from tepat.presence.attendance import bands_version_save, schedule_version_save
from tepat.presence.models import (
    AbsenceDecision,
    AbsenceRequest,
    AttendanceDay,
    AttendanceDayChange,
    BandsVersion,
    CalendarEntry,
    CheckinEvent,
    CheckinReview,
    LeavePolicyVersion,
    PeriodLock,
    PhoneDevice,
    PresencePolicy,
    ScheduleVersion,
)
from tepat.presence.services import device_decide
from tepat.rules.leave import LeaveError, leave_policy_from_data
from tepat.rules.schedule import ScheduleError
from tepat.rules.schedule_data import bands_from_data, schedule_from_data
from tepat.rules.verdict import BandsError


@admin.register(PresencePolicy)
class PresencePolicyAdmin(admin.ModelAdmin[PresencePolicy]):
    list_display = [
        "valid_from",
        "name",
        "default_radius_m",
        "max_accuracy_m",
        "offline_max_age_hours",
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # past months were judged with it

    def save_model(
        self, request: HttpRequest, obj: PresencePolicy, form: Any, change: bool
    ) -> None:
        before = model_to_dict(PresencePolicy.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="presence_policy.change" if change else "presence_policy.create",
            obj=obj,
            summary=str(obj),
            before={k: str(v) for k, v in before.items()} if before else None,
            after={k: str(v) for k, v in model_to_dict(obj).items()},
            ip_address=client_ip(request),
        )


@admin.register(CheckinEvent)
class CheckinEventAdmin(ReadOnlyAdmin):
    list_display = ["taken_at", "employee", "kind", "source", "status", "site", "distance_m"]
    list_filter = ["status", "source", "kind"]
    search_fields = ["employee__nip", "employee__name", "idempotency_key"]
    date_hierarchy = "taken_at"
    list_select_related = ["employee", "site"]


@admin.register(CheckinReview)
class CheckinReviewAdmin(ReadOnlyAdmin):
    list_display = ["at", "event", "decision", "reviewer"]


@admin.register(PhoneDevice)
class PhoneDeviceAdmin(ReadOnlyAdmin):
    list_display = ["employee", "label", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["employee__nip", "employee__name", "key_fingerprint"]
    actions = ["approve", "revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("presence.change_phonedevice")  # for the actions

    @admin.action(description=_("Approve the selected phones"))
    def approve(self, request: HttpRequest, queryset: QuerySet[PhoneDevice]) -> None:
        for device in queryset:
            device_decide(
                actor=cast(User, request.user),
                device=device,
                approve=True,
                reason="Disetujui di admin",
            )
        messages.success(request, _("Approved."))

    @admin.action(description=_("Revoke the selected phones"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[PhoneDevice]) -> None:
        for device in queryset:
            device_decide(
                actor=cast(User, request.user),
                device=device,
                approve=False,
                reason="Dicabut di admin",
            )
        messages.success(request, _("Revoked."))


def _adopt(obj: Any, saved: Any) -> None:
    """Give the admin's instance the row the service wrote (the admin reports on it)."""
    for f in saved._meta.concrete_fields:
        setattr(obj, f.attname, getattr(saved, f.attname))


class PolicyJsonForm(forms.ModelForm):  # type: ignore[type-arg]
    """Validates the JSON definition with the rules core before anything is saved."""

    parse: Any = None

    def clean_definition(self) -> Any:
        definition = self.cleaned_data["definition"]
        try:
            type(self).parse(definition)
        except (ScheduleError, BandsError, LeaveError) as exc:
            raise forms.ValidationError(exc.message) from None
        return definition


class ScheduleVersionForm(PolicyJsonForm):
    parse = staticmethod(schedule_from_data)

    class Meta:
        model = ScheduleVersion
        fields = ["group", "definition"]


class BandsVersionForm(PolicyJsonForm):
    parse = staticmethod(bands_from_data)

    class Meta:
        model = BandsVersion
        fields = ["definition"]


@admin.register(ScheduleVersion)
class ScheduleVersionAdmin(admin.ModelAdmin[ScheduleVersion]):
    form = ScheduleVersionForm
    list_display = ["group", "name", "valid_from", "valid_until", "legal_basis"]
    list_filter = ["group"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # past verdicts point at it

    def save_model(
        self, request: HttpRequest, obj: ScheduleVersion, form: Any, change: bool
    ) -> None:
        saved = schedule_version_save(
            actor=request.user, group=obj.group, definition=obj.definition
        )
        _adopt(obj, saved)


@admin.register(BandsVersion)
class BandsVersionAdmin(admin.ModelAdmin[BandsVersion]):
    form = BandsVersionForm
    list_display = ["name", "valid_from", "legal_basis"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BandsVersion, form: Any, change: bool) -> None:
        _adopt(obj, bands_version_save(actor=request.user, definition=obj.definition))


@admin.register(CalendarEntry)
class CalendarEntryAdmin(admin.ModelAdmin[CalendarEntry]):
    list_display = ["first_day", "last_day", "kind", "name", "legal_basis"]
    list_filter = ["kind"]
    date_hierarchy = "first_day"


@admin.register(AttendanceDay)
class AttendanceDayAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "employee",
        "day_code",
        "in_code",
        "out_code",
        "minutes_late",
        "minutes_early",
    ]
    list_filter = ["day_code", "in_code", "out_code"]
    search_fields = ["employee__nip", "employee__name"]
    date_hierarchy = "day"
    list_select_related = ["employee"]


class LeavePolicyVersionForm(PolicyJsonForm):
    parse = staticmethod(leave_policy_from_data)

    class Meta:
        model = LeavePolicyVersion
        fields = ["definition"]


@admin.register(LeavePolicyVersion)
class LeavePolicyVersionAdmin(admin.ModelAdmin[LeavePolicyVersion]):
    form = LeavePolicyVersionForm
    list_display = ["name", "valid_from", "legal_basis"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # filed requests name the version they were checked against

    def save_model(
        self, request: HttpRequest, obj: LeavePolicyVersion, form: Any, change: bool
    ) -> None:
        _adopt(obj, leave_policy_version_save(actor=request.user, definition=obj.definition))


@admin.register(AbsenceRequest)
class AbsenceRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are filed and decided in /presensi/ajuan/, with their audit."""

    list_display = ["employee", "type", "first_day", "last_day", "days", "status", "on_behalf"]
    list_filter = ["status", "type", "on_behalf"]
    search_fields = ["employee__nip", "employee__name"]
    date_hierarchy = "first_day"
    list_select_related = ["employee"]
    exclude = ["evidence"]  # downloaded through the authorised view only


@admin.register(AbsenceDecision)
class AbsenceDecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "level", "decision", "actor", "at"]
    list_filter = ["decision"]


@admin.register(PeriodLock)
class PeriodLockAdmin(admin.ModelAdmin[PeriodLock]):
    list_display = ["month", "locked_by", "locked_at", "note"]
    fields = ["month", "note"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a paid month stays locked; differences go to AttendanceDayChange

    def save_model(self, request: HttpRequest, obj: PeriodLock, form: Any, change: bool) -> None:
        _adopt(obj, period_lock(actor=request.user, month=obj.month, note=obj.note))


@admin.register(AttendanceDayChange)
class AttendanceDayChangeAdmin(ReadOnlyAdmin):
    list_display = ["day", "employee", "locked_code", "new_code", "found_at", "settled_in"]
    list_filter = ["settled_in", "new_code"]
    search_fields = ["employee__nip", "employee__name"]
    list_select_related = ["employee"]
