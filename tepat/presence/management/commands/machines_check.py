"""Health and reconciliation of attendance machines: run every half hour for the offline
flags, and nightly with --reconcile to queue a VERIFY SUM ATTLOG of yesterday on every
push machine (a shortfall then queues a DATA QUERY ATTLOG for the day)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tepat.presence.machines import machines_check


class Command(BaseCommand):
    help = "Periksa mesin absensi yang diam dan cocokkan jumlah absen kemarin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reconcile", action="store_true", help="Antrekan VERIFY SUM ATTLOG untuk kemarin."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        day = timezone.localdate(now) - timedelta(days=1) if options["reconcile"] else None
        counts = machines_check(now, reconcile_day=day)
        self.stdout.write(
            f"mesin diam: {counts['silent']}, VERIFY SUM diantrekan: {counts['verify_sum']}"
        )
