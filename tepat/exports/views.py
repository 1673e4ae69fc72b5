"""'Unduhan saya' (my downloads): the exports a person asked for, their state, the download
(only by the person who asked, only through ``private_download``) and a retry. The export
buttons of the recap, team and report pages post to ``export_new``."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tepat.accounts.models import AuthedRequest
from tepat.accounts.throttle import client_ip
from tepat.exports import services
from tepat.exports.kinds import KINDS, ExportRefused, kind_allows, params_read
from tepat.exports.models import ExportRequest
from tepat.org.models import Opd
from tepat.uploads import private_download


def _own(request: AuthedRequest, export_id: int) -> ExportRequest:
    """One of the caller's own exports; anyone else's answers 404, whoever asks."""
    return get_object_or_404(
        ExportRequest.objects.select_related("requester"), pk=export_id, requester=request.user
    )


@login_required
@require_GET
def export_list(request: AuthedRequest) -> HttpResponse:
    exports = ExportRequest.objects.filter(requester=request.user).order_by("-created_at", "-pk")
    page = Paginator(exports, 50).get_page(request.GET.get("page"))
    opd_ids = {e.params.get("opd") for e in page.object_list} - {None}
    opd_names = dict(Opd.objects.filter(pk__in=opd_ids).values_list("pk", "name"))
    now = timezone.now()
    rows: list[dict[str, Any]] = [
        {
            "export": e,
            "label": KINDS[e.kind].label if e.kind in KINDS else e.kind,
            "opd": opd_names.get(e.params.get("opd"), ""),
            "downloadable": e.status == ExportRequest.Status.DONE
            and e.expires_at is not None
            and e.expires_at > now,
            "retryable": services.export_retryable(e, now),
        }
        for e in page.object_list
    ]
    busy = any(e.pending for e in page.object_list)
    return render(request, "exports/list.html", {"page": page, "rows": rows, "busy": busy})


@login_required
@require_POST
def export_new(request: AuthedRequest, kind: str) -> HttpResponse:
    """Queue an export of ``kind`` (the form's ``bulan`` and ``opd``) and go to the list."""
    try:
        found = KINDS.get(kind)
        if found is None:
            raise ExportRefused(_("Unknown export."), status=404)
        if not kind_allows(found, request.user):
            raise ExportRefused(_("You may not request this export."), status=403)
        params = params_read(found, request.user, request.POST, timezone.localdate())
        _export, created = services.export_request(
            actor=request.user, kind=found, params=params, ip_address=client_ip(request)
        )
    except ExportRefused as exc:
        return render(request, "exports/refused.html", {"message": exc.message}, status=exc.status)
    if created:
        messages.success(
            request,
            _("The export is queued. It appears here when it is ready; you can leave this page."),
        )
    else:
        messages.info(request, _("This export is already queued."))
    return redirect("exports:list")


@login_required
@require_GET
def export_download(request: AuthedRequest, export_id: int) -> HttpResponseBase:
    """The file, for the one who asked for it while it is kept and they still have the scope
    they asked with; 404 otherwise."""
    export = _own(request, export_id)
    if (
        export.status != ExportRequest.Status.DONE
        or export.expires_at is None
        or export.expires_at <= timezone.now()
        or services.export_scope_refusal(export) is not None
    ):
        raise Http404(_("This file is not available."))
    services.export_download_note(actor=request.user, export=export, ip_address=client_ip(request))
    return private_download(
        export.file_path,
        filename=export.filename,
        content_type=services.export_kind(export).content_type,
    )


@login_required
@require_POST
def export_retry(request: AuthedRequest, export_id: int) -> HttpResponse:
    export = _own(request, export_id)
    try:
        services.export_retry(actor=request.user, export=export)
    except ExportRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The export is queued again."))
    return redirect("exports:list")
