"""One command to try Tepat: migrate, load the demo regency if empty, show logins, serve."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tepat.org.demo import DEMO_SEED, DemoAccount, demo_accounts_describe
from tepat.org.models import Regency

DEFAULT_ADDRPORT = "127.0.0.1:8000"


def demo_url(addrport: str) -> str:
    """The address to open in a browser: "8000" and "0.0.0.0:8000" mean this machine."""
    host, _, port = addrport.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - only shown, never bound here
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def accounts_table(accounts: list[DemoAccount]) -> list[str]:
    header = ("Username / Nama pengguna", "Password / Kata sandi", "Role / Peran", "Who / Siapa")
    rows = [header] + [(a.username, a.password, a.role, a.who) for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        lines.append("  ".join([*cells, row[3]]))
        if n == 0:
            lines.append("  ".join(["-" * w for w in widths] + ["-" * len(header[3])]))
    return lines


class Command(BaseCommand):
    help = (
        "Coba Tepat: migrasi basis data, muat data demo Mukomuko bila kosong, tampilkan akun "
        "demo, lalu jalankan server pengembangan. (Try Tepat with the demo regency.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addrport",
            default=DEFAULT_ADDRPORT,
            help=f"Alamat dan port server (default {DEFAULT_ADDRPORT}).",
        )
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Jangan jalankan server (untuk tes dan CI).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not Regency.objects.exists():
            self.stdout.write("Memuat data demo Kabupaten Mukomuko… (loading the demo regency)")
            call_command("demo_load", seed=options["seed"], stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Buka / open: {demo_url(options['addrport'])}"))
        self.stdout.write("")
        self.stdout.write("Akun demo / demo accounts:")
        for line in accounts_table(demo_accounts_describe(today=timezone.localdate())):
            self.stdout.write("  " + line)
        self.stdout.write("")
        if options["no_serve"]:
            return
        call_command("runserver", options["addrport"], use_reloader=False)
