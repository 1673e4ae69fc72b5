"""Benchmark of the phone check-in API on PostgreSQL, end to end, in one command:

    .venv/bin/python -m bench.checkin            # or: bench/run_checkin.sh

1. setup: the ``tepat_bench`` database with N employees, phones and tokens (reused when it
   matches the seed and size; ``--fresh`` rebuilds it); the ledger is emptied.
2. a production server (gunicorn or granian, several workers, TEPAT_ENV=production, DEBUG
   off, persistent DB connections) on 127.0.0.1.
3. warm-up, then R measured runs: wrk with C connections replays pre-signed check-ins, each
   of a different employee; after each run the ledger is counted against the 201 answers.
4. the 500-item batch (one phone's offline queue), B times.
5. a profiled run (py-spy on the workers, wall and CPU).
6. the raw PostgreSQL baseline: pgbench inserting one ledger-shaped row per transaction at
   the same concurrency, R times.
7. an in-process probe listing the SQL one check-in runs.
8. docs/performance.md and var/bench/results-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import checkin_sign, common, procs, profile, report, sections

VENV_BIN = common.ROOT / ".venv" / "bin"
LUA = Path(__file__).resolve().parent / "checkin.lua"


def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


def _psql(dbname: str | None = None) -> psycopg.Connection:
    """The bench database, or with `dbname` another one on the same server."""
    if dbname is None:
        return psycopg.connect(common.DATABASE_URL, autocommit=True)
    return psycopg.connect(
        host=common.PG_HOST, port=common.PG_PORT, user=common.PG_USER, dbname=dbname,
        autocommit=True,
    )  # fmt: skip


# --- The server ----------------------------------------------------------------------------


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{args.port}"

    def command(self) -> list[str]:
        a = self.args
        if a.server == "granian":
            return [
                str(VENV_BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(a.port),
                "--workers",
                str(a.workers),
                "--blocking-threads",
                str(a.threads),
                "--no-ws",
                "--log-level",
                "warning",
                "--backlog",
                "2048",
                "tepat.wsgi:application",
            ]
        cmd = [
            str(VENV_BIN / "gunicorn"),
            "tepat.wsgi:application",
            "--workers",
            str(a.workers),
            "--bind",
            f"127.0.0.1:{a.port}",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--no-control-socket",
            "--log-level",
            "warning",
        ]
        if a.worker_class != "sync":
            cmd += ["--worker-class", a.worker_class, "--threads", str(a.threads)]
        return cmd

    def start(self) -> None:
        (common.WORK / "data" / "static").mkdir(parents=True, exist_ok=True)
        self.log = (common.WORK / "server.log").open("w")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=common.APP_ROOT,
            env=common.server_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: see {common.WORK / 'server.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(self.workers()) >= self.args.workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not come up within 60 s")

    def pids(self, table: dict | None = None) -> set[int]:
        if self.proc is None:
            return set()
        return procs.descendants(table or procs._read_procs(), self.proc.pid)

    def workers(self) -> list[int]:
        table = procs._read_procs()
        pids = self.pids(table) - {self.proc.pid} if self.proc else set()
        # granian: the worker processes are the Python children; skip helper shells, if any.
        return sorted(
            p
            for p in pids
            if "python" in table[p].cmdline
            or "granian" in table[p].cmdline
            or "gunicorn" in table[p].cmdline
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started, by its id
            self.proc.wait()
        self.log.close()


# --- One wrk run ---------------------------------------------------------------------------


def wrk_run(
    args: argparse.Namespace,
    server: Server,
    bodies: Path,
    name: str,
    seconds: float,
    meter_groups: dict,
) -> dict:
    """wrk for ``seconds`` replaying ``bodies``; CPU per process group meanwhile."""
    result = common.WORK / f"wrk-{name}.json"
    answers_file = Path(f"{result}.answers")
    result.unlink(missing_ok=True)
    answers_file.unlink(missing_ok=True)
    env = dict(
        os.environ,
        BENCH_BODIES=str(bodies),
        BENCH_THREADS=str(args.wrk_threads),
        BENCH_RESULT=str(result),
        LUA_PATH=f"{LUA.parent}/?.lua;;",  # require("clock"): bench/clock.lua
    )
    cmd = [
        "wrk",
        "-t",
        str(args.wrk_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        server.url,
    ]
    wrk_pid: list[int] = []
    groups = dict(meter_groups)
    groups["load_generator"] = lambda table: (
        procs.descendants(table, wrk_pid[0]) if wrk_pid else set()
    )
    meter = procs.CpuMeter(groups)
    meter.start()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    wrk_pid.append(proc.pid)
    out, _ = proc.communicate(timeout=seconds + 120)
    cpu = meter.stop()
    data = json.loads(result.read_text())
    answers: dict[str, int] = {}
    for line in answers_file.read_text().splitlines():
        status, _, item_id = line.partition(" ")
        answers[item_id] = int(status)
    data["answers"] = answers
    data["cpu_cores"] = cpu
    data["wrk_stdout"] = out
    return data


def ledger_ids(prefix: str) -> set[str]:
    with _psql() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT idempotency_key FROM presence_checkinevent WHERE idempotency_key LIKE %s",
                (prefix + "-%",),
            )
        }


def checkin_counts(prefix: str) -> dict:
    with _psql() as conn:
        rows = conn.execute(
            """SELECT status, count(*), count(DISTINCT employee_id), count(DISTINCT idempotency_key)
               FROM presence_checkinevent WHERE idempotency_key LIKE %s GROUP BY status""",
            (prefix + "-%",),
        ).fetchall()
        flagged = conn.execute(
            "SELECT count(*) FROM presence_checkinevent WHERE idempotency_key LIKE %s "
            "AND risk_flags <> '[]'::jsonb",
            (prefix + "-%",),
        ).fetchone()[0]
    return {
        "by_status": {r[0]: r[1] for r in rows},
        "stored": sum(r[1] for r in rows),
        "distinct_employees": sum(r[2] for r in rows),
        "distinct_ids": sum(r[3] for r in rows),
        "with_flags": flagged,
    }


def post_checkin(port: int, token: str, body: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            common.CHECKIN_PATH,
            body,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def reconcile(args: argparse.Namespace, bodies: Path, data: dict, prefix: str) -> dict:
    """Every 201 answer is a ledger row, every ledger row a check-in that was sent, none twice.

    Check-ins whose answer the end of the run cut off are sent again, as a phone retries: one
    the server had already stored must answer 200 (the stored result) and add nothing; one it
    had not must answer 201 now."""
    lines = bodies.read_text(encoding="utf-8").splitlines()
    sent: dict[str, tuple[str, str]] = {}
    for t in data["threads"]:
        for line in lines[t["tid"] :: args.wrk_threads][: t["sent"]]:
            token, body = line.split("\t", 1)
            sent[json.loads(body)["id"]] = (token, body)
    answers: dict[str, int] = data["answers"]
    created = {i for i, st in answers.items() if st == 201}
    # The server goes on with requests it had read when wrk stopped: wait until it is done.
    before = ledger_ids(prefix)
    deadline = time.monotonic() + 60
    stable = 0
    while stable < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
        now_ids = ledger_ids(prefix)
        stable = stable + 1 if now_ids == before else 0
        before = now_ids
    unanswered = [i for i in sent if i not in answers]
    retried: dict[str, int] = {}
    for item_id in unanswered:
        retried[item_id] = post_checkin(args.port, *sent[item_id])
    after = checkin_counts(prefix)
    retry_ok = all(
        (st == 200 and i in before) or (st == 201 and i not in before) for i, st in retried.items()
    )
    # Rows = the run's 201s + the cut-off check-ins, whichever answer their retry got.
    expected_rows = len(created) + sum(1 for st in retried.values() if st in (200, 201))
    check = {
        "answered_201": len(created),
        "rows_after_run": len(before),
        "lost": len(created - before),  # a 201 without a row
        "unknown_rows": len(before - sent.keys()),  # a row nobody sent
        "cut_off": len(unanswered),
        "cut_off_already_stored": sum(1 for st in retried.values() if st == 200),
        "cut_off_stored_on_retry": sum(1 for st in retried.values() if st == 201),
        "retry_statuses": sorted(set(retried.values())),
        "rows_final": after["stored"],
        "ledger": after,
    }
    check["ok"] = (
        check["lost"] == 0
        and check["unknown_rows"] == 0
        and retry_ok
        and after["stored"] == expected_rows
        and after["distinct_ids"] == after["stored"]
        and after["distinct_employees"] == after["stored"]
    )
    return check


def measured_run(args, server, phones, name, run_no, meter_groups, seconds) -> dict:
    tag = run_tag(run_no)
    bodies = common.WORK / f"bodies-{name}.txt"
    t0 = time.monotonic()
    signed = checkin_sign.sign_run(phones, seed=args.seed, run_no=run_no, run_tag=tag, out=bodies)
    signed["seconds"] = round(time.monotonic() - t0, 2)
    quiet = quiet_wait(args, server)
    data = wrk_run(args, server, bodies, name, seconds, meter_groups)
    check = reconcile(args, bodies, data, signed["prefix"])
    statuses: dict[str, int] = {}
    for st in data["answers"].values():
        statuses[str(st)] = statuses.get(str(st), 0) + 1
    span = data["span_s"] or 1e-9
    answered = len(data["answers"])
    s201 = statuses.get("201", 0)
    accepted_rows = check["ledger"]["by_status"].get("accepted", 0)
    lat = data["latency_us"]["percentiles"]
    run = {
        "name": name,
        "signed": signed["count"],
        "sent": sum(t["sent"] for t in data["threads"]),
        "ran_out": any(t["ran_out"] for t in data["threads"]),
        "answered": answered,
        "statuses": statuses,
        "span_s": round(span, 3),
        "responses_per_s": round(answered / span, 1),
        "created_per_s": round(s201 / span, 1),
        # 201s whose stored status is "accepted" (not sent to review by a risk flag)
        "accepted_per_s": round(
            max(0, s201 - (check["ledger"]["stored"] - accepted_rows)) / span, 1
        ),
        "p50_ms": lat["50"] / 1000,
        "p95_ms": lat["95"] / 1000,
        "p99_ms": lat["99"] / 1000,
        "max_ms": data["latency_us"]["max"] / 1000,
        "mean_ms": round(data["latency_us"]["mean"] / 1000, 1),
        "errors": {k: v for k, v in data["errors"].items() if v},
        "non_201": {k: v for k, v in statuses.items() if k != "201"},
        "check": check,
        "ledger_ok": check["ok"],
        "cpu_cores": data["cpu_cores"],
        "signing": signed,
        "quiet_before": quiet,
    }
    cores = data["cpu_cores"]
    per = cores["seconds"] * 1000 / max(1, answered)
    run["cpu_ms_per_checkin"] = {
        "server": round(cores["server"] * per, 2),
        "postgres": round((cores["postgres_backends"] + cores["postgres_helpers"]) * per, 2),
        "load_generator": round(cores["load_generator"] * per, 2),
    }
    bodies.unlink(missing_ok=True)
    return run


class _Skip(Exception):
    pass


_RUN_BASE = int(time.time()) & 0xFFFF


def run_tag(run_no: int) -> int:
    """32-bit id prefix of a run: unique per invocation and run."""
    return (_RUN_BASE << 16) | (run_no & 0xFFFF)


def quiet_wait(args: argparse.Namespace, server: Server | None) -> dict:
    """Wait (up to --quiet-wait s) until other programs use < --quiet-cores; report it."""
    exclude = server.pids() if server else set()
    exclude.add(os.getpid())
    t0 = time.monotonic()
    load = procs.other_load(1.0, exclude)
    while load > args.quiet_cores and time.monotonic() - t0 < args.quiet_wait:
        load = procs.other_load(1.0, exclude)
    return {"other_cores": load, "waited_s": round(time.monotonic() - t0, 1)}


# --- Batch -----------------------------------------------------------------------------------


def batch_run(args, server, phone, run_no) -> dict:
    tag = run_tag(run_no)
    items = checkin_sign.batch_items(args.seed, phone, count=500, run_tag=tag)
    body = json.dumps({"items": items})
    quiet = quiet_wait(args, server)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
    conn.connect()
    t0 = time.perf_counter()
    conn.request(
        "POST",
        common.BATCH_PATH,
        body,
        {"Authorization": f"Bearer {phone.token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    payload = resp.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    results = json.loads(payload).get("results", []) if resp.status == 200 else []
    codes: dict[str, int] = {}
    for r in results:
        codes[str(r["http_status"])] = codes.get(str(r["http_status"]), 0) + 1
    ledger = checkin_counts(f"{tag:08x}")
    return {
        "http_status": resp.status,
        "seconds": round(elapsed, 3),
        "item_statuses": codes,
        "ledger": ledger,
        "request_kib": round(len(body) / 1024, 1),
        "ok": resp.status == 200
        and codes == {"201": 500}
        and ledger["stored"] == 500
        and ledger["by_status"].get("accepted") == 500,
        "quiet_before": quiet,
    }


# --- pgbench ---------------------------------------------------------------------------------


def pgbench_prepare() -> tuple[Path, dict[str, int]]:
    """A scratch copy of the ledger table (columns, defaults, indexes, foreign keys) and a
    pgbench script inserting one row shaped like a stored check-in (a real one as template)."""
    with _psql() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_pgbench_checkin")
        conn.execute(
            "CREATE TABLE bench_pgbench_checkin (LIKE presence_checkinevent INCLUDING ALL)"
        )
        # The ledger is partitioned: its key's uniqueness lives in presence_checkinkey; here
        # the plain copy carries it as the ledger did before.
        conn.execute("CREATE UNIQUE INDEX ON bench_pgbench_checkin (idempotency_key)")
        for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'presence_checkinevent'::regclass AND contype = 'f'"
        ).fetchall():
            conn.execute(
                f'ALTER TABLE bench_pgbench_checkin ADD CONSTRAINT "b_{name[:58]}" {definition}'
            )
        cur = conn.execute(
            "SELECT * FROM presence_checkinevent WHERE status = 'accepted' AND source = 'phone' "
            "ORDER BY id DESC LIMIT 1"
        )
        row = cur.fetchone()
        if row is None:
            raise RuntimeError("no stored check-in to use as the pgbench template")
        columns = [d.name for d in cur.description]
        template = dict(zip(columns, row, strict=True))
        emin, emax = conn.execute(
            "SELECT min(employee_id), max(employee_id) FROM presence_phonedevice"
        ).fetchone()
        offsets = conn.execute(
            "SELECT count(DISTINCT id - employee_id), min(id - employee_id) "
            "FROM presence_phonedevice"
        ).fetchone()
        smin, smax = conn.execute("SELECT min(id), max(id) FROM org_worksite").fetchone()
        conn.execute("VACUUM ANALYZE bench_pgbench_checkin")

        def literal(value: object) -> str:
            return psycopg.sql.Literal(
                psycopg.types.json.Jsonb(value) if isinstance(value, dict | list) else value
            ).as_string(conn)

        values = []
        names = []
        for col, value in template.items():
            if col == "id":
                continue
            names.append(f'"{col}"')
            if col == "idempotency_key":
                values.append("gen_random_uuid()::text")
            elif col == "employee_id":
                values.append(":emp")
            elif col == "device_id" and value is not None:
                values.append(":dev" if offsets[0] == 1 else literal(value))
            elif col == "site_id" and value is not None:
                values.append(":site")
            elif col in {"taken_at", "device_taken_at", "received_at"} and value is not None:
                values.append("now()")
            else:
                values.append(literal(value))
    script = (
        "-- one ledger row per transaction, shaped like a stored phone check-in\n"
        "\\set emp random(:emin, :emax)\n"
        "\\set site random(:smin, :smax)\n"
        "\\set dev :emp + :devoff\n"
        f"INSERT INTO bench_pgbench_checkin ({', '.join(names)})\n"
        f"VALUES ({', '.join(values)});\n"
    )
    path = common.WORK / "pgbench_insert.sql"
    path.write_text(script, encoding="utf-8")
    return path, {"emin": emin, "emax": emax, "devoff": offsets[1] or 0, "smin": smin, "smax": smax}


def pgbench_run(args, script: Path, params: dict[str, int], meter_groups: dict, n: int) -> dict:
    logdir = common.WORK / f"pgbench-{n}"
    logdir.mkdir(exist_ok=True)
    for old in logdir.glob("*"):
        old.unlink()
    cmd = [
        "pgbench",
        "-h",
        common.PG_HOST,
        "-p",
        str(common.PG_PORT),
        "-U",
        common.PG_USER,
        "-n",
        "-M",
        args.pgbench_mode,
        "-c",
        str(args.connections),
        "-j",
        str(args.pgbench_threads),
        "-T",
        str(max(1, round(args.duration))),
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(logdir / "tx"),
        *[x for k, v in params.items() for x in ("-D", f"{k}={v}")],
        common.DB_NAME,
    ]
    pid: list[int] = []
    groups = dict(meter_groups)
    groups["load_generator"] = lambda table: procs.descendants(table, pid[0]) if pid else set()
    meter = procs.CpuMeter(groups)
    quiet = quiet_wait(args, None)
    meter.start()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid.append(proc.pid)
    out, _ = proc.communicate(timeout=args.duration + 120)
    cpu = meter.stop()
    tps = latency_avg = None
    failed = 0
    for line in out.splitlines():
        if line.startswith("tps ="):
            tps = float(line.split()[2])
        elif line.startswith("latency average"):
            latency_avg = float(line.split("=")[1].split()[0])
        elif line.startswith("number of failed transactions"):
            failed = int(line.split(":")[1].split()[0])
    lat_us = []
    for f in logdir.glob("tx*"):
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                lat_us.append(int(parts[2]))
    lat_us.sort()

    def pct(p: float) -> float:
        return (
            round(lat_us[min(len(lat_us) - 1, int(p / 100 * len(lat_us)))] / 1000, 2)
            if lat_us
            else 0.0
        )

    for f in logdir.glob("*"):
        f.unlink()
    logdir.rmdir()
    if proc.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed:\n{out}")
    return {
        "tps": tps,
        "latency_avg_ms": latency_avg,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "transactions": len(lat_us),
        "failed": failed,
        "cpu_cores": cpu,
        "quiet_before": quiet,
    }


# --- The whole thing -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Tepat phone check-in benchmark")
    p.add_argument("--employees", type=int, default=30000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--fresh", action="store_true", help="rebuild the bench database")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0, help="target seconds per run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--server", choices=["gunicorn", "granian"], default="granian")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--worker-class", default="sync", help="gunicorn: sync or gthread")
    p.add_argument("--threads", type=int, default=8, help="gthread / granian blocking threads")
    p.add_argument("--port", type=int, default=8077)
    p.add_argument("--warmup-seconds", type=float, default=8.0)
    p.add_argument("--batch-runs", type=int, default=3)
    p.add_argument("--profile-seconds", type=float, default=6.0)
    p.add_argument("--pgbench-threads", type=int, default=2)
    p.add_argument("--pgbench-mode", default="prepared", choices=["simple", "extended", "prepared"])
    p.add_argument(
        "--quiet-cores",
        type=float,
        default=0.25,
        help="wait before each run until other programs use fewer cores than this",
    )
    p.add_argument("--quiet-wait", type=float, default=15.0, help="longest wait for quiet, s")
    p.add_argument("--out", default=str(common.ROOT / "docs" / "performance.md"))
    p.add_argument("--no-report", action="store_true")
    p.add_argument(
        "--phases",
        default="runs,batch,ceiling,profile,pgbench,probe",
        help="comma list of: runs, batch, ceiling, profile, pgbench, probe",
    )
    args = p.parse_args(argv)

    phases = set(args.phases.split(","))
    started = time.monotonic()
    started_at = datetime.now(UTC)
    common.WORK.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "started_at": started_at.isoformat(),
        "argv": sys.argv[1:] if argv is None else argv,
        "args": vars(args),
        "app_root": str(common.APP_ROOT),
    }

    # Server-wide facts, read before the setup step has created the bench database.
    with _psql("postgres") as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
        pg_settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(' ' || unit, '') FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', "
                "'shared_buffers', 'max_connections', 'commit_delay', 'data_directory')"
            ).fetchall()
        )
    results["machine"] = procs.machine_info(pg_version, pg_settings)
    results["versions"] = _versions()
    postmaster = procs.postmaster_pid(pg_settings.get("data_directory", ""))
    pg_groups = procs.postgres_groups(postmaster, common.DB_NAME)

    log("setup")
    setup = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.checkin_setup",
            "--employees",
            str(args.employees),
            "--seed",
            str(args.seed),
            *(["--fresh"] if args.fresh else []),
        ],
        cwd=common.ROOT,
        env=common.server_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if setup.returncode != 0:
        print(setup.stdout, setup.stderr, file=sys.stderr)
        return 1
    results["setup"] = json.loads(setup.stdout.strip().splitlines()[-1])
    log(f"setup done: {results['setup']}")
    phones = checkin_sign.phones_load()
    load = [ph for ph in phones if ph.role == "load"]
    batch_phones = [ph for ph in phones if ph.role == "batch"]

    server = Server(args)
    log("server: " + shlex.join(server.command()))
    server.start()
    results["server"] = {"command": shlex.join(server.command()), "workers": server.workers()}
    server_group = {"server": lambda table: server.pids(table)}
    meter_groups = {**server_group, **pg_groups}
    try:
        # Warm-up: fill the workers' caches and connections; its rate sizes the runs.
        warm = load[-min(3000, len(load) // 5) :]
        log(f"warm-up: {args.warmup_seconds:.0f} s")
        w = measured_run(args, server, warm, "warmup", 0, meter_groups, args.warmup_seconds)
        rate = max(w["responses_per_s"], 20.0)
        results["warmup"] = w
        log(f"warm-up: {w['responses_per_s']}/s p99 {w['p99_ms']} ms, ledger ok {w['ledger_ok']}")
        # The setup emptied and analyzed the ledger: statistics of empty partitions, from which
        # each worker connection's prepared statements got plans that scan the month's
        # partition whole (cheapest while it is empty), ever slower as the runs fill it.
        # A ledger in service holds the month's rows and autovacuum analyzes it as it grows;
        # so analyze it now, with the warm-up's rows (the cached plans are rebuilt).
        with _psql() as conn:
            conn.execute("ANALYZE presence_checkinevent, presence_checkinkey")

        # Enough signed check-ins for the run even if it goes 50% faster than the warm-up.
        n = int(min(len(load), rate * args.duration * 1.5 + 500))
        runs = []
        for r in range(1, args.runs + 1):
            log(f"run {r}/{args.runs}: {args.duration:.0f} s, up to {n} check-ins, 1 per employee")
            run = measured_run(args, server, load[:n], f"run{r}", r, meter_groups, args.duration)
            runs.append(run)
            log(
                f"run {r}: {run['accepted_per_s']} accepted/s, p50 {run['p50_ms']} p99 "
                f"{run['p99_ms']} ms, ledger ok {run['ledger_ok']} (cut off "
                f"{run['check']['cut_off']}), cpu {run['cpu_cores']}"
            )
        results["runs"] = runs

        batches = []
        for b in range(min(args.batch_runs, len(batch_phones)) if "batch" in phases else 0):
            log(f"batch {b + 1}: 500 items from one phone")
            batches.append(batch_run(args, server, batch_phones[b], 100 + b))
            log(f"batch {b + 1}: {batches[-1]['seconds']} s ok={batches[-1]['ok']}")
        results["batches"] = batches

        if "ceiling" in phases:
            log("ceiling: GET /healthz (one SELECT 1) on the same server")
            results["ceiling"] = ceiling_run(args, server, meter_groups)
            log(f"ceiling: {results['ceiling']['requests_per_s']}/s")

        if "profile" in phases:
            log("profiled run (py-spy)")
            results["profile"] = profiled_run(args, server, load, rate, meter_groups)
        results["peak_rss_mib"] = {str(pid): procs.peak_rss_mib(pid) for pid in server.workers()}
    finally:
        server.stop()

    pg_runs = []
    try:
        if "pgbench" not in phases:
            raise _Skip
        log("pgbench baseline")
        script, params = pgbench_prepare()
        results["pgbench_script"] = script.read_text()
        results["pgbench_params"] = params
        for r in range(args.runs):
            pg_runs.append(pgbench_run(args, script, params, pg_groups, r))
            log(f"pgbench {r + 1}: {pg_runs[-1]['tps']} tps p99 {pg_runs[-1]['p99_ms']} ms")
    except _Skip:
        pass
    except Exception as exc:
        results["pgbench_error"] = str(exc)[-3000:]
        log(f"pgbench failed: {str(exc)[-500:]}")
    results["pgbench"] = pg_runs
    with _psql() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_pgbench_checkin")

    if "probe" in phases:
        log("probe: the SQL of one check-in")
        probe = subprocess.run(
            [sys.executable, "-m", "bench.checkin_probe", "--seed", str(args.seed)],
            cwd=common.APP_ROOT,
            env=common.server_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        results["probe"] = (
            json.loads(probe.stdout.strip().splitlines()[-1])
            if probe.returncode == 0
            else {"error": probe.stderr[-2000:]}
        )

    results["summary"] = summarise(results)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    out_json = common.WORK / f"results-{started_at:%Y%m%dT%H%M%S}.json"
    out_json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    log(f"results: {out_json}")
    if not args.no_report:
        sections.head_write(report.render(results), Path(args.out))
        log(f"report: {args.out}")
    print(json.dumps(results["summary"], indent=2))
    return 0


def ceiling_run(args, server, meter_groups) -> dict:
    """The same server and concurrency on the cheapest Django endpoint there is (/healthz: the
    middleware stack and one SELECT 1): what any endpoint could reach on this machine."""
    quiet = quiet_wait(args, server)
    pid: list[int] = []
    groups = dict(meter_groups)
    groups["load_generator"] = lambda table: procs.descendants(table, pid[0]) if pid else set()
    meter = procs.CpuMeter(groups)
    meter.start()
    proc = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(args.wrk_threads),
            "-c",
            str(args.connections),
            "-d",
            f"{max(1, round(args.duration))}s",
            "--latency",
            f"{server.url}/healthz",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pid.append(proc.pid)
    out, _ = proc.communicate(timeout=args.duration + 60)
    cpu = meter.stop()
    rps = next((float(x.split()[1]) for x in out.splitlines() if x.startswith("Requests/sec")), 0.0)
    p99 = next((x.split()[1] for x in out.splitlines() if x.strip().startswith("99%")), "")
    non2xx = next((int(x.split()[-1]) for x in out.splitlines() if "Non-2xx" in x), 0)
    return {
        "requests_per_s": rps,
        "p99": p99,
        "non_2xx": non2xx,
        "cpu_cores": cpu,
        "quiet_before": quiet,
    }


def profiled_run(args, server, load, rate, meter_groups) -> dict:
    secs = args.profile_seconds
    seconds = 2 * secs + 4
    n = int(min(len(load), rate * seconds * 1.5 + 500))
    bodies = common.WORK / "bodies-profile.txt"
    signed = checkin_sign.sign_run(
        load[:n], seed=args.seed, run_no=200, run_tag=run_tag(200), out=bodies
    )
    raw_wall = common.WORK / "pyspy-wall.txt"
    raw_cpu = common.WORK / "pyspy-cpu.txt"
    result: dict = {}

    def spy() -> None:
        time.sleep(1.5)
        for raw, idle in ((raw_wall, True), (raw_cpu, False)):
            raw.unlink(missing_ok=True)
            proc = profile.record(server.proc.pid, secs, raw, idle=idle)
            _, err = proc.communicate(timeout=secs + 60)
            result[f"pyspy_{'wall' if idle else 'cpu'}_log"] = err.strip().splitlines()[-2:]

    t = threading.Thread(target=spy)
    t.start()
    data = wrk_run(args, server, bodies, "profile", seconds, meter_groups)
    t.join()
    check = reconcile(args, bodies, data, signed["prefix"])
    bodies.unlink(missing_ok=True)
    result["run"] = {
        "checkins": len(data["answers"]),
        "span_s": round(data["span_s"], 2),
        "responses_per_s": round(len(data["answers"]) / (data["span_s"] or 1e-9), 1),
        "p99_ms": data["latency_us"]["percentiles"]["99"] / 1000,
        "cpu_cores": data["cpu_cores"],
        "ledger_ok": check["ok"],
    }
    result["wall"] = profile.summarise(raw_wall) if raw_wall.exists() else None
    result["cpu"] = profile.summarise(raw_cpu) if raw_cpu.exists() else None
    return result


def _versions() -> dict:
    out: dict[str, str] = {}
    from importlib import metadata

    for name, dist in (
        ("django", "Django"),
        ("ninja", "django-ninja"),
        ("psycopg", "psycopg"),
        ("gunicorn", "gunicorn"),
        ("granian", "granian"),
        ("cryptography", "cryptography"),
        ("pydantic", "pydantic"),
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(dist)
    with contextlib.suppress(Exception):
        out["git"] = subprocess.run(
            ["git", "-C", str(common.ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    return out


def summarise(results: dict) -> dict:
    runs = results.get("runs", [])
    pg = results.get("pgbench", [])
    batches = results.get("batches", [])
    accepted = [r["accepted_per_s"] for r in runs]
    tps = [r["tps"] for r in pg]
    summary = {
        "accepted_per_s": common.median_spread(accepted),
        "p50_ms": common.median_spread([r["p50_ms"] for r in runs]),
        "p95_ms": common.median_spread([r["p95_ms"] for r in runs]),
        "p99_ms": common.median_spread([r["p99_ms"] for r in runs]),
        "errors": sum(sum(r["errors"].values()) + sum(r["non_201"].values()) for r in runs),
        "ledger_ok": all(r["ledger_ok"] for r in runs),
        "batch_500_s": common.median_spread([b["seconds"] for b in batches]),
        "batch_ok": all(b["ok"] for b in batches) if batches else None,
        "pgbench_tps": common.median_spread(tps),
        "pgbench_p99_ms": common.median_spread([r["p99_ms"] for r in pg]),
        "ratio_tepat_to_pgbench": round(statistics.median(accepted) / statistics.median(tps), 3)
        if accepted and tps
        else None,
        "other_load_cores": common.median_spread([r["cpu_cores"]["other"] for r in runs]),
        "server_cores": common.median_spread([r["cpu_cores"]["server"] for r in runs]),
        "postgres_cores": common.median_spread(
            [r["cpu_cores"]["postgres_backends"] + r["cpu_cores"]["postgres_helpers"] for r in runs]
        ),
        "load_generator_cores": common.median_spread(
            [r["cpu_cores"]["load_generator"] for r in runs]
        ),
        "peak_rss_mib": results.get("peak_rss_mib"),
        "cpu_ms_per_checkin_server": common.median_spread(
            [r["cpu_ms_per_checkin"]["server"] for r in runs if "cpu_ms_per_checkin" in r]
        ),
        "cpu_ms_per_checkin_postgres": common.median_spread(
            [r["cpu_ms_per_checkin"]["postgres"] for r in runs if "cpu_ms_per_checkin" in r]
        ),
        "ceiling_per_s": (results.get("ceiling") or {}).get("requests_per_s"),
    }
    server_ms = summary["cpu_ms_per_checkin_server"]["median"]
    pg_ms = summary["cpu_ms_per_checkin_postgres"]["median"]
    if server_ms and pg_ms is not None:
        # What the CPU per check-in allows if the machine's cores did nothing else.
        nproc = (results.get("machine") or {}).get("nproc") or 2
        summary["cpu_bound_ceiling_per_s"] = round(nproc * 1000 / (server_ms + pg_ms), 0)
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
