"""Hand-written SQL for one batch of machine punches on PostgreSQL: resolve the PINs, judge
the OPD, keep each new punch once and enter the mapped ones in the ledger, in one statement.

Why not the ORM here: a machine back from a week offline sends its backlog in 100-line
batches one after the other, and building 200 model instances and two bulk INSERTs a batch
through the ORM cost several times the CPU of running them (docs/performance.md, section
``machines``). The batch goes in as one JSON parameter; the statement is fixed text (no value
is ever formatted into it). It does exactly what ``punches._punches_insert_orm`` does with
four queries and two bulk INSERTs, and ``tests/machines/test_ingestion.py`` holds the two to
the same rows. SQLite keeps the ORM path (data-modifying CTEs are PostgreSQL's).

Only the rows this statement inserted are returned: a punch a concurrent resend stored first
is a duplicate here, and a ledger event exists only for a punch inserted with it.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

# One row per new punch, from a JSON array of objects (json_to_recordset: one parse).
# PIN → employee: this machine's mapping, else the regency's, else the PIN as a NIP (the
# order of ``punches.pins_resolve``). In the OPD: an assignment in the machine unit's OPD
# valid on the punch's local day (``punches._in_opd``).
INSERT_BATCH = """
WITH batch AS (
    SELECT b.*
    FROM json_to_recordset(%(rows)s::json) AS b(
        line integer, key text, pin text, device_time text, taken_at timestamptz,
        status smallint, verify smallint, workcode text, day date, kind text
    )
),
resolved AS (
    SELECT b.*, COALESCE(
        (SELECT m.employee_id FROM presence_pinmapping m
         WHERE m.machine_id = %(machine)s AND m.pin = b.pin),
        (SELECT m.employee_id FROM presence_pinmapping m
         WHERE m.machine_id IS NULL AND m.pin = b.pin),
        (SELECT e.id FROM org_employee e WHERE e.nip = b.pin)
    ) AS employee_id
    FROM batch b
),
judged AS (
    SELECT r.*,
        CASE
            WHEN r.employee_id IS NULL THEN 'unmapped'
            WHEN EXISTS (
                SELECT 1 FROM org_assignment a JOIN org_unit u ON u.opd_id = a.opd_id
                WHERE a.employee_id = r.employee_id AND u.id = %(unit)s
                    AND a.valid_from <= r.day AND (a.valid_to IS NULL OR a.valid_to > r.day)
            ) THEN ''
            ELSE 'other_opd'
        END AS problem
    FROM resolved r
),
stored AS (
    INSERT INTO presence_machinepunch (
        machine_id, upload_id, key, pin, device_time, taken_at, status, verify, workcode,
        employee_id, problem
    )
    SELECT %(machine)s, %(upload)s, j.key, j.pin, j.device_time, j.taken_at, j.status,
        j.verify, j.workcode, j.employee_id, j.problem
    FROM judged j
    ORDER BY j.line
    ON CONFLICT (key) DO NOTHING
    RETURNING key, employee_id, problem
),
entered AS (
    INSERT INTO presence_checkinevent (
        idempotency_key, employee_id, kind, taken_at, device_taken_at, received_at, source,
        status, site_id, distance_m, latitude, longitude, accuracy_m, device_id, seq,
        risk_flags, message, author_id, reason, corrects_id, payload, selfie
    )
    SELECT j.key, s.employee_id, j.kind, j.taken_at, j.taken_at, %(received_at)s, 'machine',
        %(status)s, %(site)s, NULL, NULL, NULL, NULL, NULL, NULL,
        %(risk_flags)s::jsonb, %(message)s, NULL, '', NULL,
        jsonb_build_object(
            'sn', %(serial)s::text, 'pin', j.pin, 'time', j.device_time, 'status', j.status,
            'verify', j.verify, 'workcode', j.workcode, 'network', %(network)s::text
        ),
        ''
    FROM stored s JOIN judged j ON j.key = s.key
    WHERE s.problem = ''
    ORDER BY j.line
    -- No conflict target: on the partitioned ledger the key is claimed in the key table by a
    -- trigger (docs/adr/0002), and a target-less DO NOTHING fits both schemas.
    ON CONFLICT DO NOTHING
)
SELECT key, employee_id, problem FROM stored
"""


@dataclass(frozen=True)
class BatchRow:
    """One new punch of a batch, as the statement reads it."""

    line: int
    key: str
    pin: str
    device_time: str
    taken_at: datetime  # aware, in the machine's zone
    status: int
    verify: int
    workcode: str
    kind: str  # the ledger kind of its status code, by the machine's table

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "key": self.key,
            "pin": self.pin,
            "device_time": self.device_time,
            "taken_at": self.taken_at.isoformat(),
            "status": self.status,
            "verify": self.verify,
            "workcode": self.workcode,
            "day": self.taken_at.date().isoformat(),
            "kind": self.kind,
        }


def batch_insert(
    *,
    machine_id: int,
    unit_id: int | None,
    site_id: int | None,
    serial: str,
    upload_id: int,
    rows: list[BatchRow],
    received_at: datetime,
    event_status: str,
    risk_flags: list[str],
    message: str,
    network: str,
) -> list[tuple[str, int | None, str]]:
    """Insert the punches not stored yet and the ledger events of the mapped ones in the
    machine's OPD; return (key, employee id, problem) of each punch this call inserted.
    Runs in the caller's transaction."""
    if not rows:
        return []
    params: dict[str, Any] = {
        "rows": json.dumps([row.as_json() for row in rows], separators=(",", ":")),
        "machine": machine_id,
        "unit": unit_id,
        "site": site_id,
        "serial": serial,
        "upload": upload_id,
        "received_at": received_at,
        "status": event_status,
        "risk_flags": json.dumps(risk_flags),
        "message": message,
        "network": network,
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_BATCH, params)
        return [(key, employee_id, problem) for key, employee_id, problem in cursor.fetchall()]
