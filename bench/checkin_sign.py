"""Pre-sign the check-ins of one benchmark run, so the load generator spends no CPU on crypto.

Each phone signs at most one check-in per run, exactly as the PWA does (tests/presence/phone.py):
ECDSA P-256 over ``id|kind|taken_at|lat|lng|accuracy|seq``, signature as raw r‖s in base64.
``taken_at`` is the signing moment minus a second, i.e. a few seconds before the request is
sent (never in the future, far from the 72 h late-sync flag). The position is inside the
phone's own work site, moved per run and per phone so no two check-ins of one phone share a
5-decimal position (the repeated-position flag) or imply fast travel.

Output: one line per check-in, ``<token>\\t<json body>``, in send order.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bench import common

RUN_STEP_DEG = 2e-5  # each run moves a phone 2e-5° north: never the same 5-decimal position
BASE_JITTER_DEG = 3e-4  # about ±33 m around the site's centre, fixed per phone


@dataclass(frozen=True)
class Phone:
    index: int
    role: str
    employee_id: int
    device_id: int
    token: str
    site_id: int
    lat: float
    lng: float


def phones_load(path: Path = common.PHONES_FILE) -> list[Phone]:
    with path.open(encoding="utf-8") as fh:
        return [Phone(**{k: v for k, v in json.loads(line).items() if k != "shape"}) for line in fh]


def run_uuid(run_tag: int, n: int) -> str:
    """Check-in ids of one run share their first 8 hex digits, so the ledger can be counted."""
    return str(uuid.UUID(int=(run_tag << 96) | (0x4000 << 64) | (0x8000 << 48) | n))


def _sign(key: ec.EllipticCurvePrivateKey, text: str) -> str:
    r, s = decode_dss_signature(key.sign(text.encode(), ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def checkin_item(
    key: ec.EllipticCurvePrivateKey,
    *,
    item_id: str,
    kind: str,
    taken_at: datetime,
    lat: float,
    lng: float,
    accuracy: float,
    seq: int,
) -> dict:
    when = taken_at.isoformat()
    lat, lng = round(lat, 6), round(lng, 6)
    text = "|".join([item_id, kind, when, f"{lat:.6f}", f"{lng:.6f}", f"{accuracy:.1f}", str(seq)])
    return {
        "id": item_id,
        "kind": kind,
        "taken_at": when,
        "latitude": lat,
        "longitude": lng,
        "accuracy_m": accuracy,
        "position_at": when,
        "seq": seq,
        "signature": _sign(key, text),
    }


def _position(seed: int, phone: Phone, run_no: int) -> tuple[float, float]:
    rng = random.Random(f"{seed}:{phone.index}")  # noqa: S311 - test data, not secrets
    lat = phone.lat + rng.uniform(-BASE_JITTER_DEG, BASE_JITTER_DEG) + (run_no % 15) * RUN_STEP_DEG
    lng = phone.lng + rng.uniform(-BASE_JITTER_DEG, BASE_JITTER_DEG)
    return lat, lng


def _sign_chunk(args: tuple) -> list[str]:
    seed, phones, run_no, run_tag, start, taken_at = args
    lines = []
    for offset, phone in enumerate(phones):
        lat, lng = _position(seed, phone, run_no)
        item = checkin_item(
            common.phone_key(seed, phone.index),
            item_id=run_uuid(run_tag, start + offset),
            kind="in" if run_no % 2 == 0 else "out",
            taken_at=taken_at,
            lat=lat,
            lng=lng,
            accuracy=float(8 + (phone.index + run_no) % 13),
            seq=run_no + 1,
        )
        lines.append(f"{phone.token}\t{json.dumps(item, separators=(',', ':'))}\n")
    return lines


def sign_run(
    phones: list[Phone], *, seed: int, run_no: int, run_tag: int, out: Path, processes: int = 2
) -> dict:
    """Sign one check-in for each of ``phones`` (in order) into ``out``."""
    taken_at = datetime.now(UTC) - timedelta(seconds=1)
    size = max(1, -(-len(phones) // (processes * 4)))
    chunks = [
        (seed, phones[i : i + size], run_no, run_tag, i, taken_at)
        for i in range(0, len(phones), size)
    ]
    with ProcessPoolExecutor(processes) as pool, out.open("w", encoding="utf-8") as fh:
        for lines in pool.map(_sign_chunk, chunks):
            fh.writelines(lines)
    return {"count": len(phones), "taken_at": taken_at.isoformat(), "prefix": f"{run_tag:08x}"}


def batch_items(seed: int, phone: Phone, *, count: int, run_tag: int) -> list[dict]:
    """One phone's offline queue: ``count`` check-ins 10 s apart up to a minute ago, each at
    its own spot of a 2 m grid inside the site (real GPS never repeats to the decimetre)."""
    key = common.phone_key(seed, phone.index)
    start = datetime.now(UTC) - timedelta(seconds=10 * count + 60)
    items = []
    for i in range(count):
        row, col = divmod(i, 25)
        items.append(
            checkin_item(
                key,
                item_id=run_uuid(run_tag, i),
                kind="in" if i % 2 == 0 else "out",
                taken_at=start + timedelta(seconds=10 * i),
                lat=phone.lat - 0.00025 + row * 2e-5,
                lng=phone.lng - 0.00025 + col * 2e-5,
                accuracy=float(8 + i % 7),
                seq=i + 1,
            )
        )
    return items
