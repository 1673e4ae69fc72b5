from django.contrib import admin

from tepat.admin_readonly import ReadOnlyAdmin
from tepat.exports.models import ExportRequest


@admin.register(ExportRequest)
class ExportRequestAdmin(ReadOnlyAdmin):
    """Who asked for which export and what became of it; the file itself is only for its
    requester, from their downloads page."""

    list_display = ["pk", "kind", "requester", "status", "created_at", "finished_at", "size"]
    list_filter = ["status", "kind"]
    search_fields = ["requester__username"]
    exclude = ["file_path"]
