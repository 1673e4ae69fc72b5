from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import User


@admin.register(User)
class TepatUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "role", "opd", "employee", "is_active", "last_login"]
    list_filter = ["role", "is_active", "opd"]
    search_fields = ["username", "employee__nip", "employee__name"]
    autocomplete_fields = ["opd", "employee"]
    fieldsets = [
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (_("Tepat role"), {"fields": ["role", "opd", "employee"]}),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        (_("Tepat role"), {"fields": ["role", "opd", "employee"]}),
    ]
