from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from tepat.accounts import mfa
from tepat.accounts.models import Role, User
from tepat.accounts.services import mfa_reset, mfa_reset_allowed, user_role_flags_apply
from tepat.accounts.throttle import client_ip
from tepat.audit.services import audit_record

# Fields through which an account could raise its own privileges.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "user_permissions", "groups")


@admin.register(User)
class TepatUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "role", "opd", "employee", "is_active", "mfa_on", "last_login"]
    actions = ["mfa_reset_action"]
    list_filter = ["role", "is_active", "opd"]
    search_fields = ["username", "employee__nip", "employee__name"]
    autocomplete_fields = ["opd", "employee"]
    fieldsets = [
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (gettext_lazy("Tepat role"), {"fields": ["role", "opd", "employee"]}),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        (gettext_lazy("Tepat role"), {"fields": ["role", "opd", "employee"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Staff and superuser flags follow the role; only a superadmin grants raw permissions.
        if getattr(request.user, "role", None) == Role.SUPERADMIN:
            return ("is_staff", "is_superuser")
        return PRIVILEGE_FIELDS

    @admin.display(boolean=True, description=gettext_lazy("two-step verification"))
    def mfa_on(self, obj: User) -> bool | None:
        return getattr(obj, "mfa_confirmed", False) if mfa.mfa_required(obj) else None

    def get_queryset(self, request: HttpRequest) -> Any:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(mfa_confirmed=Exists(confirmed))

    @admin.action(
        permissions=["change"], description=gettext_lazy("Reset two-step verification (lost phone)")
    )
    def mfa_reset_action(self, request: HttpRequest, queryset: Any) -> None:
        actor: Any = request.user
        done, refused = 0, 0
        for user in queryset:
            if not mfa_reset_allowed(actor, user):
                refused += 1
                continue
            mfa_reset(
                actor=actor,
                user=user,
                reason=_("Reset from the back office"),
                ip_address=client_ip(request),
            )
            done += 1
        if done:
            self.message_user(
                request,
                _(
                    "Two-step verification reset for %(n)s account(s): they set it up again "
                    "at the next log-in."
                )
                % {"n": done},
            )
        if refused:
            self.message_user(
                request,
                _(
                    "%(n)s account(s) skipped: only a super administrator resets another "
                    "super administrator."
                )
                % {"n": refused},
                level=messages.WARNING,
            )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if obj.role == Role.SUPERADMIN and getattr(request.user, "role", None) != Role.SUPERADMIN:
            raise PermissionDenied(_("Only a super administrator may create another one."))
        user_role_flags_apply(obj)
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="user.change" if change else "user.create",
            obj=obj,
            summary=f"{obj.username} {obj.role}",
            after={"role": obj.role, "opd": obj.opd_id, "employee": obj.employee_id},
            ip_address=client_ip(request),
        )
