"""Import a machine's USB attlog file from the server's shell (the same path as the upload
page: same parser, same idempotency, a dry run, a line-by-line report)."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.presence.models import Machine
from tepat.presence.usb_import import MAX_FILE, attlog_file_import


class Command(BaseCommand):
    help = "Impor berkas attlog.dat dari USB mesin absensi. (Import a machine's USB attlog file.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serial", help="Nomor seri mesin.")
        parser.add_argument("file", type=Path, help="Berkas *_attlog.dat.")
        parser.add_argument("--dry-run", action="store_true", help="Periksa saja, tanpa simpan.")

    def handle(self, *args: Any, **options: Any) -> None:
        machine = Machine.objects.filter(serial=options["serial"]).first()
        if machine is None:
            raise CommandError("Mesin dengan nomor seri itu tidak terdaftar.")
        path: Path = options["file"]
        try:
            with path.open("rb") as handle:
                content = handle.read(MAX_FILE + 1)
        except OSError as exc:
            raise CommandError(f"Berkas tidak dapat dibaca: {exc.strerror}") from None
        try:
            result = attlog_file_import(
                actor=None,
                machine=machine,
                content=content,
                filename=path.name,
                now=timezone.now(),
                dry_run=options["dry_run"],
                system=True,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        upload = result.upload
        if result.already_imported:
            self.stdout.write("Berkas ini sudah pernah diimpor: tidak ada perubahan.")
        self.stdout.write(
            f"baris {upload.lines}, baru {upload.new}, duplikat {upload.duplicates}, "
            f"PIN tak dikenal {upload.unmapped}, tak terbaca {upload.rejected}"
            + (" (uji saja, tidak disimpan)" if upload.state == "dry_run" else "")
        )
        for problem in upload.problems:
            text = problem.get("text") or f"{problem.get('pin')} {problem.get('time')}"
            self.stdout.write(f"  baris {problem['line']}: {problem['reason']}: {text}")
