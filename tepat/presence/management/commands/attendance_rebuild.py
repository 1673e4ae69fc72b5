"""Build the daily verdicts from the ledger: run nightly for yesterday (systemd timer or
cron, see docs/deploy.md), or for a range after a policy correction."""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.presence.attendance import attendance_days_rebuild


class Command(BaseCommand):
    help = "Hitung ulang rekap harian dari catatan absen. (Rebuild daily attendance verdicts.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="Tanggal TTTT-BB-HH (default: kemarin).")
        parser.add_argument("--days", type=int, default=1, help="Jumlah hari mulai --day.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            first = (
                date.fromisoformat(options["day"])
                if options["day"]
                else timezone.localdate() - timedelta(days=1)
            )
        except ValueError:
            raise CommandError("Tanggal harus berformat TTTT-BB-HH.") from None
        if not 1 <= options["days"] <= 366:
            raise CommandError("--days harus antara 1 dan 366.")
        for n in range(options["days"]):
            day = first + timedelta(days=n)
            written = attendance_days_rebuild(day)
            self.stdout.write(f"{day.isoformat()}: {written} pegawai")
