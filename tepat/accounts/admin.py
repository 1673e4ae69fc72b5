from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tepat.accounts.models import Role, User
from tepat.accounts.services import user_role_flags_apply
from tepat.accounts.throttle import client_ip
from tepat.audit.services import audit_record

# Fields through which an account could raise its own privileges.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "user_permissions", "groups")


@admin.register(User)
class TepatUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "role", "opd", "employee", "is_active", "last_login"]
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
