"""What the check-in benchmark's steps share: paths, the bench database, the phones' keys.

Every phone's ECDSA P-256 key is derived from the seed and the phone's index, so the setup
(which stores the public key) and the signer (which needs the private key) agree without a
key file, and every phone has a key of its own (a shared key raises the shared-device flag).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parent.parent
# The Tepat source tree under test: this repository, or a scratch copy with a change to try
# (BENCH_APP_ROOT=/tmp/copy): the server, the probe and the profile's line map use it.
APP_ROOT = Path(os.environ.get("BENCH_APP_ROOT", ROOT)).resolve()
WORK = Path(os.environ.get("BENCH_WORK_DIR", ROOT / "var" / "bench"))
PHONES_FILE = WORK / "phones.jsonl"
SETUP_FILE = WORK / "setup.json"

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
DB_NAME = os.environ.get("BENCH_DB", "tepat_bench")
DATABASE_URL = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"

CHECKIN_PATH = "/api/v1/presence/checkins"
BATCH_PATH = "/api/v1/presence/checkins/batch"

# P-256 group order: a private scalar must be in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def phone_key(seed: int, index: int) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(f"tepat-bench:{seed}:{index}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a production Tepat talking to the bench database."""
    env = dict(os.environ)
    env.update(
        {
            "TEPAT_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "tepat.settings",
            # A fixed, long, benchmark-only key: production refuses to start without one.
            "SECRET_KEY": "bench-only-" + hashlib.sha256(b"tepat-bench").hexdigest(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "DATABASE_URL": DATABASE_URL,
            "TEPAT_DATA_DIR": str(WORK / "data"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": f"{APP_ROOT}:{ROOT}",
        }
    )
    env.pop("DJANGO_DEBUG", None)
    if extra:
        env.update(extra)
    return env


def median_spread(values: list[float]) -> dict:
    """Median, min, max and count of repeated runs, as every benchmark reports them."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


def setup_reusable(
    setup_file: Path, match: dict, database_url: str, count_sql: str, expected: str
) -> dict | None:
    """The summary a bench saved in ``setup_file`` when its database was built, if it was
    built with the same ``match`` values (seed, size) and the database still holds what it
    counted: ``count_sql`` must return the summary's ``expected`` value. None: build again."""
    import json

    import psycopg

    if not setup_file.exists():
        return None
    summary = json.loads(setup_file.read_text(encoding="utf-8"))
    if any(summary.get(k) != v for k, v in match.items()):
        return None
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            row = conn.execute(count_sql).fetchone()
    except psycopg.Error:
        return None
    return summary if row and row[0] == summary.get(expected) else None


def regency_build(
    seed: int, employees: int, also: Callable[[], object] | None = None
) -> tuple[random.Random, list, list, dict]:
    """Migrate the bench database (``django.setup()`` done) and build, in one transaction, the
    check-in bench's regency of ``employees`` (``checkin_setup.org_build``), the example
    schedules as policy (``verdict.schedules_assign``), BKPSDM's bench login and whatever
    ``also`` adds. Returns the seeded generator (for the caller's further data, in order), the
    employees, their (unit, site) and the schedule groups by code. The verdict bench takes
    the same steps; the monitor bench builds on this."""
    from django.core.management import call_command
    from django.db import transaction

    from bench.checkin_setup import org_build
    from bench.verdict import schedules_assign
    from tepat.accounts.models import Role, User

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    with transaction.atomic():
        _opds, _units, _sites, people, homes = org_build(rng, employees)
        groups = schedules_assign()
        User.objects.create(
            username="bkpsdm.bench",
            role=Role.ADMIN_BKPSDM,
            password="!bench-no-password",  # noqa: S106 - unusable; the bench logs in directly
        )
        if also is not None:
            also()
    return rng, people, homes, groups


def staff_client(username: str) -> Any:
    """A Django test client logged in as ``username``, its session past the second step (as
    after the authenticator code): for benches that time staff pages through the whole stack.
    The monitor bench and the verdict bench's recap use it."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tepat.accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    user = User.objects.get(username=username)
    # The backend named, as tests/world.py does: force_login would otherwise pick the first
    # backend with get_user (AddressSprayBackend, which never returns a user).
    client.force_login(user, backend="tepat.accounts.backends.RoleBackend")
    device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=True, name="bench")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def run_header(module: str, database_url: str, argv: list[str]) -> dict[str, str]:
    """What every results file opens with: when, the exact command, PostgreSQL's version."""
    from datetime import datetime

    import psycopg

    with psycopg.connect(database_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    return {
        "at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": f"python -m {module}" + "".join(f" {a}" for a in argv),
        "postgres": version[0] if version else "?",
    }
