"""Bring the dashboard's copy of today's presence up to date with the ledger; with
``--rebuild``, judge everyone again (run every few minutes from a timer, docs/deploy.md, so
no dashboard request has to). Dashboard requests refresh it themselves between runs."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tepat.monitor.summary import presence_refresh


class Command(BaseCommand):
    help = (
        "Perbarui rekap kehadiran hari ini untuk dasbor pantau. "
        "(Refresh today's presence for the monitor dashboard.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Nilai ulang semua pegawai (rebuild whole)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = presence_refresh(timezone.now(), rebuild=options["rebuild"])
        self.stdout.write(done)
