"""The floor of a phone check-in's CPU cost: what no arrangement of the database calls removes.

The check-in bench measures what a check-in costs as served. This probe asks what it could
cost at best on the same machine, to tell whether a target rate is within reach of the
check-in's own work at all. It measures, in one run against the bench database:

1. **Python, the database answered from memory** (and, 1b, the same check-ins served for
   real, one at a time, for comparison): single check-ins through the WSGI
   application the server runs (``tepat.wsgi.application``, in-process, one at a time),
   with ``checkin_sql._rows`` replaced by a look-up of rows read beforehand. Everything the
   server's Python does but talk to PostgreSQL: JSON, validation, the signature, geofence,
   risk flags, converting the rows, building the INSERT's parameters, the answer.
2. **The signature alone**: ECDSA P-256 verification of one check-in (cryptography).
3. **PostgreSQL's CPU per check-in** (the backend's, from /proc) for the check-in's two
   statements with the parameters recorded in step 1, autocommitted, prepared:
   - *one by one*, as the server runs them today;
   - *grouped*: ``--group`` check-ins' reads in one statement (a LATERAL join over a VALUES
     list) and their INSERTs in one multi-row statement, one commit per group: the best any
     combining of concurrent check-ins could do for the database.

4. **A blocking round trip**: the client CPU of a statement PostgreSQL answers after 1 ms
   against one it answers at once: what the waiting process pays to sleep and be woken.

Then the bound: ``cores / (Python floor + PostgreSQL grouped)``, check-ins per second.
It leaves out the HTTP server's own work, the psycopg calls, the thread hand-offs a
combiner would add and the load generator, so the real rate is below it: a target above the
bound is out of reach of this check-in's work on this machine.

    python -m bench.checkin_floor [--count 1000] [--group 16] [--no-report]

Needs the check-in bench's database and phones (``python -m bench.checkin`` sets them up).
Stores nothing in the ledger but step 3's rows, which carry ids of their own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bench import checkin_sign, common, sections
from bench.checkin_probe import _proc_cpu_s, wsgi_post


def _signed(phones: list[checkin_sign.Phone], seed: int, run_no: int) -> list[tuple[str, bytes]]:
    out = common.WORK / f"bodies-floor-{run_no}.txt"
    tag = (int(time.time()) & 0xFFFF) << 16 | 0x7F00 | run_no
    checkin_sign.sign_run(phones, seed=seed, run_no=run_no, run_tag=tag, out=out, processes=2)
    lines = [line.rstrip("\n").split("\t", 1) for line in out.open(encoding="utf-8")]
    out.unlink()
    return [(token, body.encode()) for token, body in lines]


def python_floor(application: Any, signed: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Step 1: each check-in's Python CPU with ``checkin_sql._rows`` answered from memory;
    returns the CPU figures and the statements' parameters as the server built them."""
    from tepat.presence import checkin_sql

    real_rows = checkin_sql._rows
    start_sql, insert_sql = checkin_sql._start_sql(), checkin_sql._insert_sql()
    starts: dict[str, list[tuple[Any, ...]]] = {}
    recorded: dict[str, list[list[Any]]] = {"start": [], "insert": []}
    next_id = iter(range(-1, -10_000_000, -1))  # ids no stored row has

    def remembered(sql: str, params: Any, *, fresh: bool = False) -> list[tuple[Any, ...]]:
        if sql == start_sql:
            recorded["start"].append(list(params))
            return starts[params[3]]
        if sql == insert_sql:
            recorded["insert"].append(list(params))
            return [(next(next_id),)]
        raise AssertionError(f"a statement the probe does not answer: {sql[:80]}")

    # The rows each token's start statement returns, read for real once.
    now = datetime.now().astimezone()
    for token, body in signed:
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        params = checkin_sql._start_params(
            token_hash=token_hash, now=now, day=date.today(), seq=json.loads(body).get("seq")
        )
        starts[token_hash] = real_rows(start_sql, params)

    checkin_sql._rows = remembered
    try:
        for token, body in signed[:20]:  # warm-up: caches, the learned headers
            wsgi_post(application, token, body)
        recorded["start"].clear()
        recorded["insert"].clear()
        cpu, statuses = [], []
        for token, body in signed[20:]:
            c0 = time.process_time()
            statuses.append(wsgi_post(application, token, body))
            cpu.append((time.process_time() - c0) * 1000)
    finally:
        checkin_sql._rows = real_rows
    return {
        "requests": len(cpu),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "cpu_ms_median": round(statistics.median(cpu), 3),
        "cpu_ms_mean": round(statistics.mean(cpu), 3),
        "recorded": recorded,
    }


def with_database(application: Any, signed: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Step 1b: the same check-ins served for real, one at a time: the process's CPU per
    check-in, and the part of it spent in the two statements (``checkin_sql._pg_rows``)."""
    from tepat.presence import checkin_sql

    real = checkin_sql._pg_rows
    in_statements = [0.0]

    def timed(connection: Any, sql: str, params: Any) -> Any:
        c0 = time.process_time()
        try:
            return real(connection, sql, params)
        finally:
            in_statements[0] += time.process_time() - c0

    checkin_sql._pg_rows = timed
    try:
        for token, body in signed[:20]:
            wsgi_post(application, token, body)
        in_statements[0] = 0.0
        statuses, c0 = [], time.process_time()
        for token, body in signed[20:]:
            statuses.append(wsgi_post(application, token, body))
        cpu = time.process_time() - c0
    finally:
        checkin_sql._pg_rows = real
    return {
        "requests": len(statuses),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "cpu_ms_mean": round(cpu * 1000 / len(statuses), 3),
        "statements_cpu_ms_mean": round(in_statements[0] * 1000 / len(statuses), 3),
    }


def signature_alone(count: int = 2000) -> float:
    """Step 2: ms of CPU to verify one check-in's ECDSA P-256 signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = common.phone_key(2026, 0)
    public = key.public_key()
    text = b'{"id":"x","kind":"in","taken_at":"2026-12-06T07:00:00+07:00","lat":-7.1,"lng":110.4}'
    signature = key.sign(text, ec.ECDSA(hashes.SHA256()))
    c0 = time.process_time()
    for _ in range(count):
        public.verify(signature, text, ec.ECDSA(hashes.SHA256()))
    return round((time.process_time() - c0) * 1000 / count, 4)


def _fresh_keys(params: list[list[Any]], key_at: int) -> list[list[Any]]:
    """The recorded INSERTs with new idempotency keys (step 3 stores them)."""
    out = []
    for p in params:
        q = list(p)
        q[key_at] = str(uuid.uuid4())
        out.append(q)
    return out


def postgres_cost(recorded: dict[str, list[list[Any]]], group: int) -> dict[str, Any]:
    """Step 3: the backend's CPU per check-in, one by one and grouped."""
    import psycopg
    from django.db import connection

    from tepat.presence import checkin_sql
    from tepat.presence.models import CheckinEvent

    key_at = checkin_sql._KEY_AT
    starts, inserts = recorded["start"], recorded["insert"]
    n = min(len(starts), len(inserts))
    half = n // 2
    connection.ensure_connection()
    # Django's adapters (its JSON dumper, for the payload), on a connection of the probe's own.
    conn = psycopg.connect(
        common.DATABASE_URL.replace("postgres://", "postgresql://"),
        autocommit=True,
        context=connection.connection,
    )
    backend = conn.info.backend_pid
    cur = conn.cursor()

    def timed(run: Callable[[], int]) -> dict[str, Any]:
        cpu0, wall0 = _proc_cpu_s(backend), time.perf_counter()
        count = run()
        cpu, wall = _proc_cpu_s(backend) - cpu0, time.perf_counter() - wall0
        return {
            "checkins": count,
            "postgres_cpu_ms_per_checkin": round(cpu * 1000 / count, 3),
            "wall_ms_per_checkin": round(wall * 1000 / count, 3),
        }

    def one_by_one() -> int:
        start_sql, insert_sql = checkin_sql._start_sql(), checkin_sql._insert_sql()
        for s, i in zip(starts[:half], _fresh_keys(inserts[:half], key_at), strict=True):
            cur.execute(start_sql, s, prepare=True)
            cur.fetchall()
            cur.execute(insert_sql, i, prepare=True)
            if not cur.fetchall():
                raise AssertionError("a fresh key was not stored")
        return half

    def grouped() -> int:
        # The statements the server's grouping runs (checkin_sql._starts_run/_inserts_run),
        # on the probe's own connection.
        done = 0
        start_sql = checkin_sql._grouped_start_sql(group)
        insert_sql = checkin_sql._grouped_insert_sql(group)
        rest_s, rest_i = starts[half:n], _fresh_keys(inserts[half:n], key_at)
        for at in range(0, len(rest_s) - group + 1, group):
            params = checkin_sql._grouped_start_params(rest_s[at : at + group])
            cur.execute(start_sql, params, prepare=True)
            cur.fetchall()
            cur.execute(insert_sql, [v for i in rest_i[at : at + group] for v in i], prepare=True)
            if len(cur.fetchall()) != group:
                raise AssertionError("a fresh key was not stored")
            done += group
        return done

    before = CheckinEvent.objects.count()
    result: dict[str, Any] = {
        "one_by_one": timed(one_by_one),
        "grouped": {"group": group, **timed(grouped)},
    }
    conn.close()
    result["rows_stored"] = CheckinEvent.objects.count() - before
    return result


def round_trip_cost(count: int = 400) -> dict[str, float]:
    """Step 4: what waiting costs the waiting process: CPU per statement of one PostgreSQL
    answers at once and of one it answers after 1 ms (``pg_sleep``). The difference is paid
    per blocking wait (the process is put to sleep and woken), whatever the statement."""
    import psycopg

    conn = psycopg.connect(
        common.DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True
    )
    out = {}
    for name, sql in (("at_once", "SELECT 1"), ("after_1ms", "SELECT pg_sleep(0.001)")):
        conn.execute(sql)
        c0 = time.process_time()
        for _ in range(count):
            conn.execute(sql).fetchall()
        out[f"{name}_cpu_ms"] = round((time.process_time() - c0) * 1000 / count, 4)
    conn.close()
    return out


def markdown(result: dict[str, Any]) -> str:
    """The section of docs/performance.md."""
    floor, pg, bound = result["python_floor"], result["postgres"], result["bound_per_s"]
    served = result["with_database"]
    one, grouped = pg["one_by_one"], pg["grouped"]
    trip = result["round_trip"]
    waited = round(trip["after_1ms_cpu_ms"] - trip["at_once_cpu_ms"], 4)
    rows = [
        (
            "the server's Python with the database answered from memory",
            f"**{floor['cpu_ms_median']}** (mean {floor['cpu_ms_mean']})",
            f"{floor['requests']} single check-ins through `tepat.wsgi.application` in-process,"
            f" `checkin_sql._rows` replaced by rows read beforehand; answers {floor['statuses']}",
        ),
        (
            "the server's Python, the same check-ins served for real",
            f"{served['cpu_ms_mean']} (mean)",
            f"one at a time, stored; {served['statements_cpu_ms_mean']} ms of it in the two"
            f" statements (psycopg, waiting included); answers {served['statuses']}",
        ),
        (
            "of which the ECDSA P-256 signature",
            str(result["signature_ms"]),
            "`cryptography`, one verification",
        ),
        (
            "PostgreSQL, the read and the INSERT one by one",
            str(one["postgres_cpu_ms_per_checkin"]),
            f"the backend's CPU (/proc), {one['checkins']} check-ins, prepared, autocommitted",
        ),
        (
            f"PostgreSQL, {grouped['group']} check-ins per read and per INSERT",
            f"**{grouped['postgres_cpu_ms_per_checkin']}**",
            f"the statements the server's grouping runs, one commit per {grouped['group']}",
        ),
        (
            "a blocking round trip, to the waiting process",
            f"{waited} more than one answered at once",
            f"`SELECT pg_sleep(0.001)` {trip['after_1ms_cpu_ms']} ms against `SELECT 1`"
            f" {trip['at_once_cpu_ms']} ms of client CPU",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""## What a check-in costs at best (`bench/checkin_floor.py`, issue 10)

Measured {result["at"]} on the check-in bench's database, `{result["command"]}`: what no
arrangement of the database calls removes from a check-in, and the rate it allows on
{result["cores"]:g} cores.

| part (per check-in) | CPU ms | how |
|---|---|---|
{table}

**Bound**: {result["cores"]:g} cores / (Python floor + PostgreSQL) = **{bound["grouped"]:,.0f}
check-ins/s** with the database work grouped ({bound["one_by_one"]:,.0f}/s one by one). It leaves
out the HTTP server, psycopg, the waits and wake-ups of every round trip and the load
generator, so a served rate stays below it.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--count", type=int, default=1000, help="check-ins measured")
    p.add_argument("--group", type=int, default=16, help="check-ins per grouped statement")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--cores", type=float, default=float(os.cpu_count() or 2))
    p.add_argument("--no-report", action="store_true", help="print, leave docs/ alone")
    args = p.parse_args(argv)
    os.environ.update(common.server_env())
    import django

    django.setup()
    from tepat.wsgi import application

    phones = [ph for ph in checkin_sign.phones_load() if ph.role == "load"]
    # Phones from the end of the list: the check-in bench's runs start from the front.
    signed = _signed(phones[-(args.count + 20) :], args.seed, run_no=90)
    floor = python_floor(application, signed)
    recorded = floor.pop("recorded")
    served = with_database(application, signed)  # the same check-ins, stored this time
    signature = signature_alone()
    postgres = postgres_cost(recorded, args.group)
    trip = round_trip_cost()
    grouped_pg = postgres["grouped"]["postgres_cpu_ms_per_checkin"]
    one_pg = postgres["one_by_one"]["postgres_cpu_ms_per_checkin"]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.checkin_floor " + " ".join(argv or sys.argv[1:]),
        "cpu": platform.processor() or platform.machine(),
        "python_floor": floor,
        "with_database": served,
        "signature_ms": signature,
        "postgres": postgres,
        "round_trip": trip,
        "cores": args.cores,
        "bound_per_s": {
            "one_by_one": round(args.cores * 1000 / (floor["cpu_ms_median"] + one_pg), 1),
            "grouped": round(args.cores * 1000 / (floor["cpu_ms_median"] + grouped_pg), 1),
        },
    }
    print(json.dumps(result, indent=1))
    sections.publish("checkin-floor", markdown(result), write=not args.no_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
