"""In-process probe: the SQL one check-in runs, and its Python CPU time without a server.

Runs the production settings against the bench database through the WSGI application the
server runs (``tepat.wsgi.application``: the check-in lane in front of Django's full stack),
called in-process with the environ a server would hand it, one check-in at a time, each from
a different employee. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import checkin_sign, common


def _shape(sql: str) -> str:
    """A query's gist: verb and table(s), literals dropped."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    m = re.match(r"\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|BEGIN|COMMIT|SAVEPOINT|RELEASE)", sql)
    verb = m.group(1) if m else sql[:20]
    tables = re.findall(r'(?:FROM|INTO|JOIN)\s+"(\w+)"', sql)
    where = re.search(r"WHERE (.{0,140})", sql)
    return " ".join(
        x
        for x in [
            verb,
            ", ".join(dict.fromkeys(tables)),
            f"WHERE {where.group(1)}" if where else "",
        ]
        if x
    )


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (0 if it is not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wsgi_environ(token: str, body: bytes) -> dict[str, Any]:
    """The environ a server hands the WSGI application for one check-in."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": common.CHECKIN_PATH,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8077",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def wsgi_post(application: Any, token: str, body: bytes) -> int:
    """One check-in through ``application`` in-process; its HTTP status."""
    statuses: list[str] = []
    result = application(wsgi_environ(token, body), lambda status, *_: statuses.append(status))
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return int(statuses[0].split(" ", 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument(
        "--cprofile", type=int, default=0, help="print the N top functions (cProfile, cumulative)"
    )
    args = parser.parse_args()
    os.environ.update(common.server_env())
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # 10 units, 12 employees each: the first 2 of each unit warm up (connections, and any
    # per-unit cache the code may keep, as it would be after a minute of a morning's rush),
    # the other 10 of each are measured.
    from tepat.org.models import Assignment
    from tepat.wsgi import application

    load = [p for p in checkin_sign.phones_load() if p.role == "load"]
    unit_of = dict(
        Assignment.objects.filter(
            employee_id__in=[p.employee_id for p in load[:3000]], valid_to__isnull=True
        ).values_list("employee_id", "unit_id")
    )
    by_unit: dict[int, list] = {}
    for p in load[:3000]:
        by_unit.setdefault(unit_of.get(p.employee_id, -1), []).append(p)
    units = sorted(
        (u for u, ps in by_unit.items() if len(ps) >= 12), key=lambda u: -len(by_unit[u])
    )
    per_unit = max(1, args.count // 10)
    warm = [p for u in units[:10] for p in by_unit[u][:2]]
    measured = [p for u in units[:10] for p in by_unit[u][2 : 2 + per_unit]]
    phones = warm[:20] + measured
    out = common.WORK / "bodies-probe.txt"
    tag = (int(time.time()) & 0xFFFF) << 16 | 0x7777
    checkin_sign.sign_run(phones, seed=args.seed, run_no=7, run_tag=tag, out=out, processes=1)
    lines = [line.rstrip("\n").split("\t", 1) for line in out.open(encoding="utf-8")]
    out.unlink()

    def send(token: str, body: str) -> int:
        return wsgi_post(application, token, body.encode())

    for token, body in lines[:20]:
        send(token, body)
    with CaptureQueriesContext(connection) as captured:
        status = send(*lines[20])
    # Times as the debug cursor logged them (the check-in path's own executor logs its
    # statements with microseconds; an execute wrapper would divert it to Django's cursor).
    queries = [
        {"ms": round(float(q["time"]) * 1000, 3), "sql": _shape(q["sql"])}
        for q in captured.captured_queries
    ]
    backend = connection.connection.info.backend_pid if connection.vendor == "postgresql" else 0
    pg0 = _proc_cpu_s(backend)
    wall, cpu, statuses = [], [], []
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None  # CPU, not wall
    for token, body in lines[21:]:
        w0, c0 = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        statuses.append(send(token, body))
        if profiler is not None:
            profiler.disable()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
            args.cprofile
        )
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.cprofile)
    pg_cpu_ms = None
    if backend and connection.connection.info.backend_pid == backend:
        pg_cpu_ms = round((_proc_cpu_s(backend) - pg0) * 1000 / len(wall), 3)
    print(
        json.dumps(
            {
                "status": status,
                "queries": queries,
                "query_count": len(queries),
                "statuses": {str(s): statuses.count(s) for s in set(statuses)},
                "requests": len(wall),
                "wall_ms_median": round(statistics.median(wall), 2),
                "python_cpu_ms_median": round(statistics.median(cpu), 2),
                "python_cpu_ms_mean": round(statistics.mean(cpu), 2),
                # The PostgreSQL backend's CPU over the measured check-ins, per check-in
                # (/proc, 10 ms ticks: read it over a few hundred check-ins).
                "postgres_cpu_ms_mean": pg_cpu_ms,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
