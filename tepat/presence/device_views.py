"""HTTP endpoints that attendance machines call: the ZKTeco push protocol at the standard
``/iclock/*`` paths (and the ``.aspx`` spellings some firmware uses), and the Fingerspot
webhook.

Machines sit behind office NAT and call Tepat; they have no session and no CSRF token and
read only plain text. Every reply carries a ``Date`` header (the device sets its clock from
the handshake's). A serial that is not an active machine gets a harmless ``OK`` for every
request: no options, no commands, nothing stored and nothing acknowledged, so the device
keeps its punches until someone accepts it. ``OK:n`` is sent only after the punches are
committed; any failure answers an error text and the device resends after ErrorDelay.
"""

import hmac
import logging

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tepat.accounts.throttle import client_ip
from tepat.presence import fingerspot, iclock, machines, punches
from tepat.presence.models import Machine, MachineUpload
from tepat.presence.tasks import days_rebuild_later

logger = logging.getLogger(__name__)

RESEND = "ERROR: not saved, send again"


def _reply(text: str, *, status: int = 200, encoding: str = "") -> HttpResponse:
    response = HttpResponse(
        text.encode(encoding or "utf-8", errors="replace"),
        content_type="text/plain",
        status=status,
    )
    response["Date"] = http_date()
    response["Cache-Control"] = "no-store"
    return response


def _body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, never form-parsed (devices send no reliable Content-Type); None when
    it is larger than ``limit``."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _contact(request: HttpRequest, *, handshake: bool = False) -> Machine | None:
    """The calling machine if it is an active push machine, else None (after the contact is
    noted and an unknown serial quarantined)."""
    machine = machines.machine_contact(
        serial=request.GET.get("SN", ""),
        ip=client_ip(request),
        now=timezone.now(),
        comm_key=request.GET.get("pushcommkey"),
        handshake=handshake,
    )
    if machine is None or machine.status != Machine.Status.ACTIVE:
        return None
    if machine.vendor != Machine.Vendor.ZKTECO:
        return None
    return machine


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cdata(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    body = _body(request, iclock.MAX_BODY)
    if body is None:
        return _reply("ERROR: body too large", status=413)
    machine = _contact(request)
    if machine is None:
        return _reply("OK")
    table = request.GET.get("table", "")
    if table == "ATTLOG":
        return _attlog(request, machine, body)
    if table in ("OPERLOG", "USERINFO"):
        return _operlog(request, machine, body, table)
    if table == "options":
        text, _ = iclock.body_text(body, machine.encoding)
        machines.device_options_record(machine, iclock.parse_device_options(text))
        return _reply("OK")
    # ATTPHOTO (a face photo: personal data Tepat does not keep), ERRORLOG, BIODATA...
    return _reply("OK")


def _handshake(request: HttpRequest) -> HttpResponse:
    """``GET cdata?SN=..&options=all``: the options block. Other GETs on cdata (e.g.
    ``table=RemoteAtt``, a user not on this machine) get ``OK``: nothing to send."""
    handshake = "options" in request.GET
    machine = _contact(request, handshake=handshake)
    if machine is None or not handshake:
        return _reply("OK")
    key = request.GET.get("pushcommkey") or ""
    if machine.comm_key_hash and not hmac.compare_digest(
        machine.comm_key_hash, machines.secret_hash(key)
    ):
        return _reply("OK")  # flagged in machine_contact; no options for a wrong key
    block = iclock.options_block(machine.serial, timezone_hours=machines.timezone_hours(machine))
    return _reply(block, encoding=machine.encoding)


def _query(request: HttpRequest) -> str:
    return str(request.META.get("QUERY_STRING", ""))


def _attlog(request: HttpRequest, machine: Machine, body: bytes) -> HttpResponse:
    now = timezone.now()
    try:
        upload = punches.upload_store(
            machine=machine,
            source=MachineUpload.Source.PUSH,
            table="ATTLOG",
            body=body,
            received_at=now,
            ip=client_ip(request),
            query=_query(request),
        )
        held = machine.network_lock and not machines.network_trusted(machine)
        report = punches.attlog_ingest(upload, now=now, held=held, realtime=True)
    except DatabaseError:
        logger.exception("ATTLOG from %s not saved; the machine will resend", machine.serial)
        return _reply(RESEND)
    return _reply(iclock.upload_ack(report.lines))


def _operlog(request: HttpRequest, machine: Machine, body: bytes, table: str) -> HttpResponse:
    now = timezone.now()
    try:
        upload = punches.upload_store(
            machine=machine,
            source=MachineUpload.Source.PUSH,
            table=table,
            body=iclock.without_templates(body),
            received_at=now,
            ip=client_ip(request),
            query=_query(request),
        )
        text, encoding = iclock.body_text(body, machine.encoding)
        batch = iclock.parse_operlog(text)
        with transaction.atomic():
            if batch.users and encoding != "utf-8" and not machine.encoding:
                # Chinese firmware: remember it, so names sent back are encoded the same way.
                machine.encoding = encoding
                Machine.objects.filter(pk=machine.pk).update(encoding=encoding)
            machines.operlog_record(machine, batch, now)
            upload.state = MachineUpload.State.PROCESSED
            upload.lines = batch.lines
            upload.rejected = len(batch.bad)
            upload.problems = [
                {"line": b.line_no, "text": b.text, "reason": b.reason} for b in batch.bad
            ]
            upload.save(update_fields=["state", "lines", "rejected", "problems"])
    except DatabaseError:
        logger.exception("%s from %s not saved; the machine will resend", table, machine.serial)
        return _reply(RESEND)
    return _reply(iclock.upload_ack(batch.lines))


@csrf_exempt
@require_GET
def getrequest(request: HttpRequest) -> HttpResponse:
    """The command poll, every few seconds: at most one contact write a minute, one query
    for the queue; ``OK`` when nothing is pending."""
    machine = _contact(request)
    if machine is None:
        return _reply("OK")
    now = timezone.now()
    info = request.GET.get("INFO")
    if info:
        machines.info_record(machine, iclock.parse_info(info), now)
    due = machines.commands_due(machine, now)
    return _reply(iclock.command_lines((str(c.pk), c.text) for c in due), encoding=machine.encoding)


@csrf_exempt
@require_POST
def devicecmd(request: HttpRequest) -> HttpResponse:
    """Command results, batched one per line; ``OK`` once stored."""
    body = _body(request, iclock.MAX_BODY)
    if body is None:
        return _reply("ERROR: body too large", status=413)
    machine = _contact(request)
    if machine is None:
        return _reply("OK")
    now = timezone.now()
    try:
        punches.upload_store(
            machine=machine,
            source=MachineUpload.Source.PUSH,
            table="devicecmd",
            body=body,
            received_at=now,
            ip=client_ip(request),
            query=_query(request),
        )
        text, _ = iclock.body_text(body, machine.encoding)
        machines.command_results_record(machine, iclock.parse_command_results(text), now)
    except DatabaseError:
        logger.exception("devicecmd from %s not saved; the machine will resend", machine.serial)
        return _reply(RESEND)
    return _reply("OK")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ping(request: HttpRequest) -> HttpResponse:
    """Keep-alive between the batches of a large upload (spec §11)."""
    _contact(request)
    return _reply("OK")


@csrf_exempt
@require_POST
def fingerspot_webhook(request: HttpRequest, secret: str) -> JsonResponse:
    """Fingerspot.io's webhook for one machine, authenticated by the secret in its URL."""
    machine = (
        Machine.objects.filter(
            webhook_secret_hash=machines.secret_hash(secret),
            vendor=Machine.Vendor.FINGERSPOT,
            status=Machine.Status.ACTIVE,
        )
        .select_related("unit")
        .first()
    )
    if machine is None or not secret:
        return JsonResponse({"error": "Tidak ditemukan."}, status=404)
    body = _body(request, fingerspot.MAX_BODY)
    if body is None:
        return JsonResponse({"error": "Isi permintaan terlalu besar."}, status=413)
    now = timezone.now()
    Machine.objects.filter(pk=machine.pk).update(last_contact_at=now, last_ip=client_ip(request))
    try:
        hook = fingerspot.parse_webhook(body)
    except fingerspot.WebhookRefused as exc:
        return JsonResponse({"error": f"Data tidak valid: {exc}"}, status=400)
    if hook.cloud_id != machine.serial:
        return JsonResponse({"error": "cloud_id tidak cocok dengan mesin ini."}, status=400)
    if hook.punch is None:
        return JsonResponse({"ok": True, "ignored": hook.kind})
    try:
        upload = punches.upload_store(
            machine=machine,
            source=MachineUpload.Source.FINGERSPOT,
            table="attlog",
            body=body,
            received_at=now,
            ip=client_ip(request),
        )
        with transaction.atomic():
            report = punches.punches_record(machine, upload, [hook.punch], received_at=now)
            report.lines = 1
            punches.upload_finish(upload, report)
            days_rebuild_later(
                report.days, before=now.astimezone(machines.zone(machine)).date(), punches=True
            )
    except DatabaseError:
        logger.exception("Fingerspot punch for %s not saved", machine.serial)
        return JsonResponse({"error": "Belum tersimpan, kirim ulang."}, status=503)
    return JsonResponse({"ok": True, "new": report.new, "duplicates": report.duplicates})
