"""Back office for e-Presensi. The ledger is read-only here; policy edits are audited."""

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import User
from tepat.audit.services import audit_record
from tepat.presence.models import CheckinEvent, CheckinReview, PhoneDevice, PresencePolicy
from tepat.presence.services import device_decide


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
            ip_address=request.META.get("REMOTE_ADDR"),
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
