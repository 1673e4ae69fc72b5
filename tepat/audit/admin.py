from django.contrib import admin

from tepat.admin_readonly import ReadOnlyAdmin
from tepat.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "object_id", "actor__username"]
    date_hierarchy = "at"
