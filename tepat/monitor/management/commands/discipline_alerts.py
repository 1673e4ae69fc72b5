"""Raise and escalate PP 94/2021 discipline alerts and send their notifications: run nightly
after ``attendance_rebuild`` (docs/deploy.md). Running it twice sends nothing twice."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.monitor.services import discipline_alerts_run
from tepat.rules.discipline import DisciplineError


class Command(BaseCommand):
    help = (
        "Peringatan disiplin PP 94/2021: naikkan, teruskan ke BKPSDM, kirim pemberitahuan. "
        "(Raise, escalate and notify discipline alerts.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="Tanggal TTTT-BB-HH (default: hari ini).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = date.fromisoformat(options["day"]) if options["day"] else timezone.localdate()
        except ValueError:
            raise CommandError("Tanggal harus berformat TTTT-BB-HH.") from None
        try:
            run = discipline_alerts_run(today=today)
        except DisciplineError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{today.isoformat()}: {run.summary()}")
