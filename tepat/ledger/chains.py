"""Which tables are chained, and the canonical bytes of one row.

A row's bytes are its concrete columns as JSON (sorted keys, no spaces, times in UTC ISO 8601,
decimals as text), so the same row gives the same hash on every read, whatever the database
returns for key order in a JSON column.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

GENESIS = "0" * 64


@dataclass(frozen=True)
class Chain:
    name: str  # the model's label, e.g. "presence.checkinevent"
    # Rows whose time is unset or younger than the sealing delay wait (their transaction may
    # still be open). May follow a relation: a TPP result waits for its run to finish, since a
    # failed run deletes the results it had written.
    time_field: str

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.name)


CHAINS = {
    chain.name: chain
    for chain in [
        Chain("presence.checkinevent", "received_at"),
        Chain("audit.auditentry", "at"),
        Chain("tpp.tppresult", "run__finished_at"),
    ]
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def row_hash(row: dict[str, Any]) -> str:
    canonical = json.dumps(
        {key: _plain(value) for key, value in row.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_hash(previous: str, row: str) -> str:
    return hashlib.sha256(f"{previous}{row}".encode()).hexdigest()
