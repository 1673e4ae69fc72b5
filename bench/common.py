"""What the check-in benchmark's steps share: paths, the bench database, the phones' keys.

Every phone's ECDSA P-256 key is derived from the seed and the phone's index, so the setup
(which stores the public key) and the signer (which needs the private key) agree without a
key file, and every phone has a key of its own (a shared key raises the shared-device flag).
"""

from __future__ import annotations

import base64
import hashlib
import os
import statistics
from pathlib import Path

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
