"""One command to try Tepat: migrate, load the demo regency if empty, show logins, serve."""

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tepat.localtls import local_names, local_tls_ensure
from tepat.org.demo import DEMO_SEED, DemoAccount, demo_accounts_describe
from tepat.org.models import Regency

DEFAULT_ADDRPORT = "127.0.0.1:8000"
HTTPS_ADDRPORT = "0.0.0.0:8443"  # reachable from a phone on the LAN: the point of --https


def demo_url(addrport: str) -> str:
    """The address to open in a browser: "8000" and "0.0.0.0:8000" mean this machine."""
    host, _, port = addrport.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - only shown, never bound here  # nosec B104
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
        parser.add_argument(
            "--https",
            action="store_true",
            help=(
                "Layani lewat HTTPS di jaringan lokal (0.0.0.0:8443) dengan sertifikat lokal, "
                "agar bisa dibuka dari ponsel sungguhan. (Serve HTTPS for a real phone.)"
            ),
        )
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            help="Nama atau alamat IP tambahan untuk sertifikat (boleh berulang).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not Regency.objects.exists():
            self.stdout.write("Memuat data demo Kabupaten Mukomuko… (loading the demo regency)")
            call_command("demo_load", seed=options["seed"], stdout=self.stdout)
        if options["https"]:
            self._serve_https(options)
            return
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

    def _serve_https(self, options: dict[str, Any]) -> None:
        """Gunicorn with a certificate from Tepat's local CA, reachable from the LAN."""
        addrport = (
            options["addrport"] if options["addrport"] != DEFAULT_ADDRPORT else HTTPS_ADDRPORT
        )
        port = addrport.rpartition(":")[2]
        tls = local_tls_ensure(settings.DATA_DIR / "tls", local_names(tuple(options["host"])))
        self.stdout.write("")
        self.stdout.write("HTTPS untuk ponsel / for a phone on the same network:")
        self.stdout.write(
            f"  1. Pasang sertifikat CA ini di ponsel / install on the phone: {tls.ca_cert}"
        )
        self.stdout.write(
            "     (Android: Setelan → Keamanan → Enkripsi & kredensial → Instal sertifikat → CA)"
        )
        for name in tls.names:
            if name not in {"localhost", "127.0.0.1"}:
                self.stdout.write(
                    self.style.SUCCESS(f"  2. Buka / open: https://{name}:{port}/app/")
                )
        self.stdout.write("")
        for line in accounts_table(demo_accounts_describe(today=timezone.localdate())):
            self.stdout.write("  " + line)
        if options["no_serve"]:
            return
        env = {
            **os.environ,
            "ALLOWED_HOSTS": ",".join(tls.names),
            "CSRF_TRUSTED_ORIGINS": ",".join(f"https://{n}:{port}" for n in tls.names),
        }
        argv = [
            sys.executable, "-m", "gunicorn", "tepat.wsgi:application",
            "--bind", addrport, "--workers", "2",
            "--certfile", str(tls.cert), "--keyfile", str(tls.key),
        ]  # fmt: skip
        os.execvpe(sys.executable, argv, env)  # noqa: S606 - fixed argv, no shell
