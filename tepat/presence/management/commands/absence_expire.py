"""Expire absence requests nobody decided within the policy's days: run daily (systemd
timer or cron, see docs/deploy.md). Running it twice expires nothing twice."""

from typing import Any

from django.core.management.base import BaseCommand

from tepat.presence.absences import absence_requests_expire


class Command(BaseCommand):
    help = "Tandai kedaluwarsa pengajuan yang tidak diputuskan. (Expire undecided requests.)"

    def handle(self, *args: Any, **options: Any) -> None:
        count = absence_requests_expire()
        self.stdout.write(f"{count} pengajuan kedaluwarsa.")
