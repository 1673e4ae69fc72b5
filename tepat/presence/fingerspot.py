"""Fingerspot's cloud webhook, the second machine adapter (devices.md §10).

Fingerspot.io posts ``{"type":"attlog","cloud_id":"C…","data":{"pin":"1","scan":"2020-07-21
10:11","verify":"1","status_scan":"1"}}`` for each punch. There is no signature: the
machine is authenticated by a per-machine secret in the webhook URL (only its hash is stored),
and the ``cloud_id`` must be the registered one. ``scan`` has minute resolution, so two
punches of one person within a minute are one punch here.

Reconciliation (not called from Tepat yet, no network in tests): Fingerspot's
``POST https://developer.fingerspot.io/api/get_attlog`` with ``Authorization: Bearer <token>``
and ``{"trans_id":"1","cloud_id":"C…","start_date":"YYYY-MM-DD","end_date":"YYYY-MM-DD"}``
returns the same records; feeding them through ``attlog_from_webhook`` one by one gives the
same keys, so a nightly pull only fills gaps.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tepat.presence import iclock

MAX_BODY = 64 * 1024
SCAN_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


class WebhookRefused(ValueError):
    """A body that is not a Fingerspot webhook; answered 400 with the reason."""


@dataclass(frozen=True)
class Webhook:
    kind: str
    cloud_id: str
    punch: iclock.Punch | None


def _scan_time(text: str) -> datetime:
    for fmt in SCAN_FORMATS:
        try:
            moment = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if moment.year in iclock.YEARS:
            return moment
    raise WebhookRefused("bad scan time")


def _int(value: Any, name: str) -> int:
    try:
        number = int(str(value).strip() or "0")
    except ValueError:
        raise WebhookRefused(f"bad {name}") from None
    if number not in iclock.CODE_RANGE:
        raise WebhookRefused(f"{name} out of range")
    return number


def parse_webhook(body: bytes) -> Webhook:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused("not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRefused("not a JSON object")
    kind = str(data.get("type", ""))[:32]
    cloud_id = str(data.get("cloud_id", ""))[:64]
    if kind != "attlog":
        return Webhook(kind, cloud_id, None)
    record = data.get("data")
    if not isinstance(record, dict):
        raise WebhookRefused("attlog without data")
    pin = str(record.get("pin", "")).strip()
    if not iclock.pin_valid(pin):
        raise WebhookRefused("bad pin")
    punch = iclock.Punch(
        line_no=1,
        pin=pin,
        local_time=_scan_time(str(record.get("scan", ""))),
        status=_int(record.get("status_scan", 0), "status_scan"),
        verify=_int(record.get("verify", 0), "verify"),
    )
    return Webhook(kind, cloud_id, punch)
