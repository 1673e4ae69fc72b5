"""The attendance file a machine exports to a USB stick (``<serial>_attlog.dat``), for sites
without internet (devices.md §11). Store-and-forward is normal there, not an exception.

The file holds the same TAB-separated ATTLOG lines as the push protocol (ZK's export pads
the PIN with spaces, which the parser strips), so it goes through the same parser, the same
idempotency key and the same ledger: a punch already pushed, or a file uploaded twice, adds
nothing. The file is stored raw with its hash; a dry run reports without saving.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.audit.services import audit_record
from tepat.presence import punches
from tepat.presence.models import Machine, MachineUpload

MAX_FILE = 20 * 1024 * 1024  # a year of a 1,000-person office is about 10 MB


@dataclass(frozen=True)
class ImportResult:
    upload: MachineUpload
    already_imported: bool


def attlog_file_import(
    *,
    actor: Any,
    machine: Machine,
    content: bytes,
    filename: str,
    now: datetime,
    dry_run: bool = False,
    system: bool = False,
) -> ImportResult:
    """Import one attlog file for a machine the actor manages (``system``: the management
    command on the server). Returns the upload row, whose counts and ``problems`` are the
    line-by-line report."""
    if not system and not access.machines_manageable_by(actor).filter(pk=machine.pk).exists():
        raise PermissionDenied(_("This machine belongs to another OPD."))
    if machine.status != Machine.Status.ACTIVE:
        raise ValidationError(_("Only an active machine's file can be imported."))
    if len(content) > MAX_FILE:
        raise ValidationError(_("The file is larger than 20 MB."))
    if b"\x00" in content[:4096] or (b"\t" not in content[:65536] and content.strip()):
        raise ValidationError(_("This is not an attendance file (TAB-separated attlog.dat)."))
    digest = hashlib.sha256(content).hexdigest()
    earlier = (
        MachineUpload.objects.filter(
            machine=machine,
            source=MachineUpload.Source.USB,
            sha256=digest,
            state=MachineUpload.State.PROCESSED,
        )
        .order_by("received_at")
        .first()
    )
    if earlier is not None:
        return ImportResult(earlier, already_imported=True)
    upload = punches.upload_store(
        machine=machine,
        source=MachineUpload.Source.USB,
        table="ATTLOG",
        body=content,
        received_at=now,
        filename=filename,
        actor=actor,
    )
    report = punches.attlog_ingest(upload, now=now, dry_run=dry_run)
    audit_record(
        actor=actor,
        action="machine.usb_dry_run" if dry_run else "machine.usb_import",
        obj=upload,
        summary=f"{machine.serial} {filename[:80]}",
        after={
            "lines": report.lines,
            "new": report.new,
            "duplicates": report.duplicates,
            "unmapped": report.unmapped,
            "rejected": report.rejected,
        },
    )
    upload.refresh_from_db()
    return ImportResult(upload, already_imported=False)
