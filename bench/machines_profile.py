"""Where one machine's backlog batch spends Tepat's CPU: the 200 upload batches (and the pings
between them) of ``bench.machines``'s backlog sent in-process through Django's full request
stack (middleware included) against the bench database, no HTTP server:

    .venv/bin/python -m bench.machines_profile              # CPU seconds of this process
    .venv/bin/python -m bench.machines_profile --cprofile   # + the top functions (cProfile)
    .venv/bin/python -m bench.machines_profile --queries    # the statements of one batch

Run ``python -m bench.machines`` once first (it builds ``tepat_bench_machines``). The ledger
tables of that database are emptied before and filled by the run. The CPU figure is this
process only (Django's test client adds a little); PostgreSQL's side is not in it.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from datetime import UTC, datetime

from bench import machines as bench_machines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cprofile", action="store_true")
    p.add_argument("--queries", action="store_true")
    p.add_argument("--batches", type=int, default=200)
    args = p.parse_args(argv)
    os.environ.update(bench_machines.env())
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    today = (datetime.now(UTC) + bench_machines.WIB).date()
    records = bench_machines.backlog_records(2026, today)
    bodies = [
        ("\n".join(r.to_line() for r in records[i : i + 100]) + "\n").encode()
        for i in range(0, len(records), 100)
    ][: args.batches]
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1")
    serial = bench_machines.BACKLOG_SERIAL

    def send(n: int, body: bytes, ping: bool = True) -> None:
        reply = client.post(
            f"/iclock/cdata?SN={serial}&table=ATTLOG&Stamp={n}", body, content_type="text/plain"
        )
        if reply.content != b"OK:%d" % body.count(b"\n"):
            raise SystemExit(f"batch {n}: {reply.content!r}")
        if ping:
            client.get(f"/iclock/ping?SN={serial}")

    bench_machines.reset()
    if args.queries:
        send(0, bodies[0])
        connection.force_debug_cursor = True
        send(1, bodies[1], ping=False)  # each request starts a new query log
        for query in connection.queries:
            print(query["time"], query["sql"][:200].replace("\n", " "))
        return 0
    profile = cProfile.Profile() if args.cprofile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for n, body in enumerate(bodies):
        send(n, body)
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{len(bodies)} batches + pings: Tepat CPU {cpu:.2f} s, wall {wall:.2f} s")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
