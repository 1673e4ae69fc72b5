"""Back office for the monitor: read only. Alerts change through the monitor's pages (each
action audited) and the nightly run, never by editing a row here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tepat.admin_readonly import ReadOnlyAdmin
from tepat.monitor.models import AlertAction, DisciplineAlert, Notification, Sanction


class AlertActionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AlertAction
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "note"]
    readonly_fields = ["at", "kind", "actor", "note"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DisciplineAlert)
class DisciplineAlertAdmin(ReadOnlyAdmin):
    list_display = [
        "raised_at", "employee", "opd", "threshold_code", "level", "status", "respond_by",
        "supervisor_inaction",
    ]  # fmt: skip
    list_filter = ["status", "level", "supervisor_inaction", "year"]
    search_fields = ["employee__nip", "employee__name"]
    date_hierarchy = "raised_at"
    list_select_related = ["employee", "opd"]
    inlines = [AlertActionInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "channel", "purpose", "subject", "sent_at", "error"]
    list_filter = ["channel", "purpose"]
    search_fields = ["recipient__username", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = [
        "recorded_at", "employee", "kind", "decree_number", "effective_from", "months",
        "annulled", "author",
    ]  # fmt: skip
    list_filter = ["kind", "level", "annulled"]
    search_fields = ["employee__nip", "employee__name", "decree_number"]
    date_hierarchy = "recorded_at"
    list_select_related = ["employee", "author"]
