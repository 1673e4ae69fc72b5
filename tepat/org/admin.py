"""Back office for BKPSDM. History rows (assignments, site moves) are read-only here: they
change only through the services that audit them (transfer, relocate, import)."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tepat.accounts.throttle import client_ip
from tepat.admin_readonly import ReadOnlyInline
from tepat.audit.services import audit_record
from tepat.org.admin_import import import_view
from tepat.org.models import (
    Assignment,
    Employee,
    Opd,
    Regency,
    ScheduleGroup,
    Unit,
    WorkSite,
    WorkSiteLocationChange,
    bank_account_masked,
)
from tepat.org.services import employee_transfer_cancel


@admin.register(Regency)
class RegencyAdmin(admin.ModelAdmin[Regency]):
    list_display = ["name", "code", "timezone"]
    exclude = ["boundary", "kecamatan_boundaries"]


@admin.register(Opd)
class OpdAdmin(admin.ModelAdmin[Opd]):
    list_display = ["name", "code", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "code"]


class WorkSiteInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WorkSite
    extra = 0
    fields = ["name", "latitude", "longitude", "radius_m", "quality", "active"]
    readonly_fields = ["latitude", "longitude", "quality"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin[Unit]):
    list_display = ["name", "code", "kind", "opd", "npsn", "active"]
    list_filter = ["kind", "opd", "active"]
    search_fields = ["name", "code", "npsn"]
    autocomplete_fields = ["parent", "alternative_sites"]
    inlines = [WorkSiteInline]


class MoveInline(ReadOnlyInline):
    model = WorkSiteLocationChange
    fields = readonly_fields = (
        "at", "author", "method", "new_latitude", "new_longitude", "accuracy_m", "reason",
    )  # fmt: skip


@admin.register(WorkSite)
class WorkSiteAdmin(admin.ModelAdmin[WorkSite]):
    list_display = [
        "name",
        "unit",
        "quality",
        "quality_distance_m",
        "location_approximate",
        "active",
    ]
    list_filter = ["quality", "location_approximate", "unit__opd", "shape"]
    search_fields = ["name", "unit__name", "unit__npsn"]
    # Moving a site goes through the audited relocation page, never a bare edit.
    readonly_fields = [
        "latitude",
        "longitude",
        "quality",
        "quality_distance_m",
        "quality_message",
        "location_source",
    ]
    inlines = [MoveInline]


@admin.register(ScheduleGroup)
class ScheduleGroupAdmin(admin.ModelAdmin[ScheduleGroup]):
    list_display = ["name", "code"]


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fk_name = "employee"
    fields = readonly_fields = (
        "valid_from", "valid_to", "unit", "jabatan", "kelas_jabatan", "golongan", "supervisor",
        "note",
    )  # fmt: skip


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin[Employee]):
    list_display = ["nip", "full_name", "kind", "active"]
    list_filter = ["kind", "active", "gender"]
    search_fields = ["nip", "name"]
    inlines = [AssignmentInline]
    actions = ["transfer_cancel_action"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The NIP encodes birth date and gender: changing it makes another person.
        return ["nip", "kind", "gender", "birth_date"] if obj else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New employees arrive through the import, which validates NIP and position together.
        return False

    def save_model(self, request: HttpRequest, obj: Employee, form: Any, change: bool) -> None:
        """Audited with the fields changed; the account number shows only its last 4 digits."""
        super().save_model(request, obj, form, change)
        if not change or not form.changed_data:
            return
        before = {name: form.initial.get(name) for name in form.changed_data}
        after = {name: form.cleaned_data.get(name) for name in form.changed_data}
        for values in (before, after):
            if "bank_account" in values:
                values["bank_account"] = bank_account_masked(values["bank_account"] or "")
        audit_record(
            actor=request.user,
            action="employee.update",
            obj=obj,
            summary=f"{obj.nip} {obj.full_name}",
            before={k: str(v) if v is not None else None for k, v in before.items()},
            after={k: str(v) if v is not None else None for k, v in after.items()},
            ip_address=client_ip(request),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path("impor/", self.admin_site.admin_view(import_view), name="org_import"),
            *super().get_urls(),
        ]

    @admin.action(
        permissions=["change"], description=gettext_lazy("Cancel a transfer not in force yet")
    )
    def transfer_cancel_action(self, request: HttpRequest, queryset: Any) -> Any:
        """Asks for the reason first, then calls ``employee_transfer_cancel`` per employee."""
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "admin/org/transfer_cancel.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Cancel a transfer not in force yet"),
                    "opts": self.model._meta,
                    "queryset": queryset,
                    "missing_reason": "confirm" in request.POST,
                },
            )
        for employee in queryset:
            try:
                employee_transfer_cancel(
                    actor=request.user,
                    employee=employee,
                    reason=reason,
                    today=timezone.localdate(),
                )
            except ValidationError as exc:
                self.message_user(request, f"{employee}: {exc.messages[0]}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(employee)s: transfer cancelled.") % {"employee": employee}
                )
        return None
