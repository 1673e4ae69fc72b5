"""The morning peak: every phone of a province checking in between 06:30 and 08:00, compressed.

    python -m bench.peak                                   # 100,000 employees
    python -m bench.peak --employees 5000 --compress 30    # a small trial

Shape (the real morning, ``--compress`` times faster: 60 turns 90 minutes into 90 s):

- phones: each employee's phone sends one signed check-in at a time drawn from a triangular
  distribution over 06:30-08:00 peaking at 07:20 (deterministic from ``--seed``); sent by wrk
  (``bench/peak.lua``) on that schedule over ``--connections`` connections;
- at 07:00, ``--backlog-share`` of the phones (5%) come back online at once and each sends its
  offline queue (``--backlog-items`` check-ins) to ``/checkins/batch`` instead;
- from 07:10, ``--machines`` fingerprint machines (zkemu) push ``--machine-punches`` punches
  each, all in parallel, to a second server on the machines bench's database (its regency),
  on the same PostgreSQL and the same 2 cores.

Nothing lost: every check-in answered 201 (alone or as a batch item) must be in the ledger
exactly once, the ledger holds no phone check-in nobody was told was stored, and every machine
punch is acknowledged and in the ledger once (``machines.ledger_count``). Peak RSS of every
server worker is read from /proc (VmHWM). Section ``peak`` of docs/performance.md.

Memory: the peak RSS (VmHWM) of every process that serves the morning: the check-in server's
master and workers, the machines' server (master and workers), and one ``tepat db_worker``
task worker per database, running all along as in production (the morning's events are
today's, so they queue no verdict rebuilds; the worker polls the empty queue).

Databases: ``tepat_bench_province_peak`` (phones) and ``tepat_bench_province_peak_machines``;
port 8081 (and 8082 for the machines' server). Run under ``flock /tmp/tepat-bench.lock``, or
give ``--lock /tmp/tepat-bench.lock``: the setup (reused when seed and size match, the ledger
emptied) and the signing then run before the lock is taken, and only the timed part holds it.
"""

from __future__ import annotations

import argparse
import fcntl
import http.client
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ENV_DEFAULTS = {
    "BENCH_DB": "tepat_bench_province_peak",
    "BENCH_MACHINES_DB": "tepat_bench_province_peak_machines",
    "BENCH_WORK_DIR": str(Path(__file__).resolve().parents[1] / "var" / "bench" / "peak"),
}
WINDOW_S = 90 * 60  # 06:30 -> 08:00
PEAK_S = 50 * 60  # 07:20
BACKLOG_AT_S = 30 * 60  # 07:00
MACHINES_AT_S = 40 * 60  # 07:10
BACKLOG_TAG = 0x7E000000  # batch item ids: this + the phone's index, then the item's number


class _NoMeter:
    def start(self) -> None:
        pass

    def stop(self) -> dict:
        return {}


def _post(port: int, path: str, token: str, body: str) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t0 = time.perf_counter()
    try:
        conn.request(
            "POST",
            path,
            body,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, resp.read(), time.perf_counter() - t0
    finally:
        conn.close()


def _counts(statuses: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in statuses:
        found[str(status)] = found.get(str(status), 0) + 1
    return found


class TaskWorker:
    """``tepat db_worker`` on one bench database, as production runs it beside the servers."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name, self.env = name, env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # nosec B603
            [str(Path(sys.executable).parent / "tepat"), "db_worker", "--interval", "1",
             "--worker-id", f"bench-peak-{self.name}"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def stop(self) -> dict[str, int]:
        """Stop it (by its pid); the tasks queued in its database by status."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"
            ).fetchall()
        return {str(status): n for status, n in rows}


def _meter(server, msrv, tasks, data_directory, db, machines_db):  # type: ignore[no-untyped-def]
    """Cores used during the timed part by each side, and by other programs on the machine."""
    from bench import procs

    postmaster = procs.postmaster_pid(data_directory)
    phones_pg = procs.postgres_groups(postmaster, db)
    machines_pg = procs.postgres_groups(postmaster, machines_db)

    def task_pids(table: dict) -> set[int]:
        return {p for w in tasks if w.proc for p in procs.descendants(table, w.proc.pid)}

    return procs.CpuMeter(
        {
            "checkin_server": server.pids,
            "machines_server": msrv.pids if msrv else lambda _t: set(),
            "task_workers": task_pids,
            "postgres_phones": phones_pg["postgres_backends"],
            "postgres_machines": machines_pg["postgres_backends"],
            "postgres_helpers": phones_pg["postgres_helpers"],
            # wrk, and this process: the offline queues' and the machines' senders
            "load_generators": lambda table: procs.descendants(table, os.getpid()),
        }
    )


def _lock_take(path: str | None, results: dict[str, Any]) -> Any:
    """Wait for the bench lock (as ``flock PATH``) when ``--lock`` names one; the open file
    holds it until closed. Not when already run under that lock (bench.province, flock)."""
    if not path:
        return None
    t0 = time.perf_counter()
    fh = open(path, "a")  # noqa: SIM115 - held until the timed part ends
    fcntl.flock(fh, fcntl.LOCK_EX)
    results["lock_wait_s"] = round(time.perf_counter() - t0, 1)
    results["_lock_t0"] = time.perf_counter()
    return fh


def schedule(n: int, seed: int) -> list[float]:
    """Seconds after 06:30 at which each of ``n`` phones checks in (real time, uncompressed)."""
    rng = random.Random(f"peak:{seed}")  # noqa: S311 - test data
    return [rng.triangular(0, WINDOW_S, PEAK_S) for _ in range(n)]


def main(argv: list[str] | None = None) -> int:
    missing = {k: v for k, v in ENV_DEFAULTS.items() if k not in os.environ}
    if missing:  # bench.common reads them on import: start again with them set
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable, "-m", "bench.peak", *(argv or sys.argv[1:])])  # noqa: S606  # nosec B606

    from bench import checkin, checkin_sign, common, machines, procs, sections

    p = argparse.ArgumentParser(description="Tepat morning-peak load test")
    p.add_argument("--employees", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--compress", type=float, default=60.0, help="real minutes per wall minute")
    p.add_argument("--connections", type=int, default=256)
    p.add_argument("--backlog-share", type=float, default=0.05)
    p.add_argument("--backlog-items", type=int, default=6)
    p.add_argument("--machines", type=int, default=300)
    p.add_argument("--machine-punches", type=int, default=10)
    p.add_argument("--workers", type=int, default=3, help="check-in server: granian workers")
    p.add_argument("--threads", type=int, default=8, help="check-in server: threads per worker")
    p.add_argument("--machine-workers", type=int, default=2)
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--lock", metavar="PATH", help="hold this lock (flock) for the timed part only")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--render", metavar="JSON", help="only rewrite the section from a run")
    p.add_argument("--note", help="with --render: a paragraph on the run (e.g. what else ran)")
    args = p.parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        if args.note:
            saved["note"] = args.note
        sections.section_write("peak", render(saved))
        return 0
    common.WORK.mkdir(parents=True, exist_ok=True)
    started = time.time()
    log = checkin.log

    if args.machines:
        log("machines: setup")
        machines.setup(args.seed, args.fresh)
    log("phones: setup")
    t_setup = time.perf_counter()
    setup = subprocess.run(  # nosec B603
        [sys.executable, "-m", "bench.checkin_setup", "--employees", str(args.employees),
         "--seed", str(args.seed), *(["--fresh"] if args.fresh else [])],
        cwd=common.ROOT, env=common.server_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if setup.returncode != 0:
        print(setup.stdout, setup.stderr, file=sys.stderr)
        return 1
    setup_summary = json.loads(setup.stdout.strip().splitlines()[-1])
    setup_summary["wall_s"] = round(time.perf_counter() - t_setup, 1)
    log(f"phones: setup {setup_summary}")
    phones = checkin_sign.phones_load()
    rng = random.Random(f"backlog:{args.seed}")  # noqa: S311 - test data
    backlog = [ph for ph in phones if rng.random() < args.backlog_share]
    backlog_ids = {ph.index for ph in backlog}
    single = [ph for ph in phones if ph.index not in backlog_ids]
    when = schedule(len(single), args.seed)

    log(f"signing {len(single)} check-ins and {len(backlog)} offline queues")
    signed = common.WORK / "peak-signed.txt"
    checkin_sign.sign_run(single, seed=args.seed, run_no=0, run_tag=1, out=signed)
    lines = signed.read_text(encoding="utf-8").splitlines()
    order = sorted(range(len(lines)), key=lambda i: when[i])
    bodies = common.WORK / "peak-bodies.txt"
    with bodies.open("w", encoding="utf-8") as fh:
        fh.writelines("0\t-\t-\n" for _ in range(args.connections))
        for i in order:
            fh.write(f"{round(1000 * when[i] / args.compress)}\t{lines[i]}\n")
    batches = [
        (
            ph.token,
            json.dumps(
                {
                    "items": checkin_sign.batch_items(
                        args.seed, ph, count=args.backlog_items, run_tag=BACKLOG_TAG + ph.index
                    )
                }
            ),
        )
        for ph in backlog
    ]

    server = checkin.Server(
        argparse.Namespace(
            server="granian", port=args.port, workers=args.workers, threads=args.threads
        )
    )
    msrv = machines.Server(args.port + 1, args.machine_workers) if args.machines else None
    results: dict[str, Any] = {
        "argv": sys.argv[1:] if argv is None else argv,
        "args": vars(args),
        "setup": setup_summary,
        "signing_s": round(time.perf_counter() - t_setup - setup_summary["wall_s"], 1),
    }
    lock = _lock_take(args.lock, results)
    with checkin._psql("postgres") as conn:
        results["machine"] = procs.machine_info(
            conn.execute("SHOW server_version").fetchone()[0], {}
        )
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
    results["load_before"] = procs.loadavg()
    tasks = [TaskWorker("phones", common.server_env())]
    if msrv:
        tasks.append(TaskWorker("machines", machines.env()))
    for worker in tasks:  # first: they load Django while the servers come up, not metered
        worker.start()
    server.start()
    if msrv:
        msrv.start()
    meter = _meter(server, msrv, tasks, data_directory, common.DB_NAME, machines.DB_NAME)
    meter.start()
    try:
        results.update(_run(args, server, msrv, bodies, batches, common, checkin, machines))
    finally:
        results["cpu_cores"] = meter.stop()
        table = procs._read_procs()
        results["worker_peak_rss_mib"] = {
            "checkin": sorted(filter(None, (procs.peak_rss_mib(p) for p in server.workers()))),
            "checkin_master": procs.peak_rss_mib(server.proc.pid) if server.proc else None,
            "machines": sorted(
                filter(None, (procs.peak_rss_mib(p) for p in (msrv.pids(table) if msrv else [])))
            ),
            "tasks": {w.name: procs.peak_rss_mib(w.proc.pid) for w in tasks if w.proc},
        }
        results["tasks_run"] = {w.name: w.stop() for w in tasks}
        server.stop()
        if msrv:
            msrv.stop()
    results["load_after"] = procs.loadavg()
    if lock is not None:
        results["lock_held_s"] = round(time.perf_counter() - results.pop("_lock_t0"), 1)
        lock.close()  # releases the flock
    results["wall_s"] = round(time.time() - started, 1)
    results["command"] = "python -m bench.peak " + shlex.join(results["argv"])
    out = common.WORK / f"peak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    log(f"results: {out}")
    if not args.no_report:
        sections.section_write("peak", render(results))
    return 0 if results["ok"] else 1


def _run(args, server, msrv, bodies, batches, common, checkin, machines) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    span = WINDOW_S / args.compress
    result = common.WORK / "peak-wrk.json"
    lua = common.ROOT / "bench" / "peak.lua"
    env = dict(
        os.environ,
        BENCH_BODIES=str(bodies),
        BENCH_RESULT=str(result),
        LUA_PATH=f"{lua.parent}/?.lua;;",  # require("clock"): bench/clock.lua
    )
    wrk = [
        "wrk", "-t1", "-c", str(args.connections), "-d", f"{round(span + 3600)}s",
        "--timeout", "120s", "-s", str(lua), server.url,
    ]  # fmt: skip
    batch_out: list[tuple[int, bytes, float]] = []
    fleet_out: dict[str, Any] = {}

    def send_backlog() -> None:
        time.sleep(BACKLOG_AT_S / args.compress)
        with ThreadPoolExecutor(32) as pool:
            batch_out.extend(
                pool.map(lambda b: _post(args.port, common.BATCH_PATH, b[0], b[1]), batches)
            )

    def push_machines() -> None:
        time.sleep(MACHINES_AT_S / args.compress)
        fleet_out.update(machines.fleet_run(msrv, args.machines, args.machine_punches, _NoMeter()))

    side = [threading.Thread(target=send_backlog, daemon=True)]
    if msrv:
        side.append(threading.Thread(target=push_machines, daemon=True))
    checkin.log(f"peak: {shlex.join(wrk)}")
    proc = subprocess.Popen(
        wrk, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )  # nosec B603
    t0 = time.perf_counter()
    for t in side:
        t.start()
    # -d is only a bound: at 100,000 phones and 60x the server may answer for many times the
    # schedule's span (the queue's lateness is reported, nothing is dropped for it).
    # wrk sleeps its whole -d even when every answer is in: once the schedule is over, the
    # side loads are done and the ledger has stopped growing for 5 s, SIGINT ends it (wrk
    # then writes its summary as usual).
    time.sleep(span)
    last, stable = -1, 0
    while proc.poll() is None and stable < 5:
        time.sleep(1)
        with checkin._psql() as conn:
            rows = conn.execute("SELECT count(*) FROM presence_checkinevent").fetchone()[0]
        quiet = rows == last and not any(t.is_alive() for t in side)
        stable, last = (stable + 1 if quiet else 0), rows
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t0
    for t in side:
        t.join()
    data = json.loads(result.read_text())
    answers = dict(
        (line.split(" ", 1)[1], int(line.split(" ", 1)[0]))
        for line in Path(f"{result}.answers").read_text().splitlines()
    )
    stored = {i for i, st in answers.items() if st == 201}
    # A check-in whose answer never came (cut off, timed out) is sent again, as the phone
    # would: 200 (it was stored) or 201 (stored now) both mean the phone was told.
    sent = {}
    for line in bodies.read_text(encoding="utf-8").splitlines()[args.connections :]:
        _offset, token, body = line.split("\t", 2)
        sent[json.loads(body)["id"]] = (token, body)
    retried = {i: checkin.post_checkin(args.port, *sent[i]) for i in sent if i not in answers}
    stored |= {i for i, st in retried.items() if st in (200, 201)}
    batch_items_201: set[str] = set()
    batch_status: dict[str, int] = {}
    for status, payload, _s in batch_out:
        batch_status[str(status)] = batch_status.get(str(status), 0) + 1
        if status == 200:
            for item in json.loads(payload).get("results", []):
                if item.get("http_status") == 201:
                    batch_items_201.add(item["id"])
    told = stored | batch_items_201
    with checkin._psql() as conn:
        rows = conn.execute(
            "SELECT idempotency_key, count(*) FROM presence_checkinevent WHERE source = 'phone'"
            " GROUP BY 1"
        ).fetchall()
    ledger = dict(rows)
    ledger_check = {
        "answered_201_single": len(stored),
        "answered_201_batch_items": len(batch_items_201),
        "ledger_phone_rows": sum(ledger.values()),
        "missing": len(told - ledger.keys()),  # told stored, not in the ledger
        "twice": sum(1 for c in ledger.values() if c > 1),
        "unannounced": len(ledger.keys() - told),  # stored, nobody told (cut off, not retried)
        "single_statuses": _counts(answers.values()),
        "cut_off_retried": _counts(retried.values()),
        "batch_statuses": batch_status,
    }
    batch_secs = sorted(s for _st, _p, s in batch_out)
    ok = (
        ledger_check["missing"] == 0
        and ledger_check["twice"] == 0
        and ledger_check["unannounced"] == 0
        and all(i in answers or retried[i] in (200, 201) for i in sent)
        and (not msrv or bool(fleet_out.get("exactly_once")))
    )
    return {
        "schedule": {"window": "06:30-08:00", "peak": "07:20", "compress": args.compress,
                     "span_s": round(span, 1), "backlog_at": "07:00", "machines_at": "07:10"},
        "wall_s_load": round(wall, 1),
        "wrk": data,
        "wrk_stdout": stdout[-2000:],
        "rate_mean_per_s": round(len(answers) / data["span_s"], 1) if data["span_s"] else None,
        "backlog": {
            "phones": len(batches),
            "items": len(batches) * args.backlog_items,
            "p50_s": round(batch_secs[len(batch_secs) // 2], 2) if batch_secs else None,
            "max_s": round(batch_secs[-1], 2) if batch_secs else None,
        },
        "fleet": {k: v for k, v in fleet_out.items() if k not in ("violations", "errors")},
        "ledger": ledger_check,
        "ok": ok,
    }  # fmt: skip


def _setup_line(r: dict[str, Any]) -> str:
    st = r["setup"]
    built = ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in st.get("timings", {}).items())
    how = f"built in {st.get('total_s')} s ({built})"
    if st.get("reused"):
        how = f"reused (seed {st['seed']}; {how}), ledger emptied in {st.get('reset_s')} s"
    lock = (
        f"; bench lock waited {r['lock_wait_s']} s, held {r['lock_held_s']} s (the timed part)"
        if "lock_held_s" in r
        else ""
    )
    return (
        f"Setup: {st['employees']:,} employees' phones and tokens, {how}; signing "
        f"{r.get('signing_s')} s{lock}"
    )


def render(r: dict[str, Any]) -> str:
    w, led, b, f = r["wrk"], r["ledger"], r["backlog"], r.get("fleet", {})
    pct = w["latency_us"]["percentiles"]
    m = r["machine"]
    rss = r["worker_peak_rss_mib"]
    return "\n".join(
        [
            "## Morning peak (`bench/peak.py`)",
            "",
            f"Command: `{r['command']}` (wall {r['wall_s']} s, setup included)  ",
            f"Machine: {m['nproc']} cores {m['cpu_model']}, {m['ram_gib']} GiB, PostgreSQL "
            f"{m['postgresql']}; load average before {r['load_before']}, after {r['load_after']}"
            + (f"  \n{_setup_line(r)}" if r.get("setup") else ""),
            "",
            f"Time is compressed {r['schedule']['compress']:g}x: the morning 06:30-08:00 (peak "
            f"07:20) took {r['schedule']['span_s']} s of schedule; every phone's single "
            "check-in is sent at its scheduled instant or, once all connections are busy, as "
            "soon as one frees (lateness below).",
            "",
            "| figure | value |",
            "|---|---|",
            f"| single check-ins sent / answered | {w['loaded'] - w['opens']} /"
            f" {w['answered'] - w['opens']} |",
            f"| time first to last answer | {w['span_s']} s (mean {r['rate_mean_per_s']}/s) |",
            f"| latency p50 / p90 / p99 / max (ms) | {pct['50'] / 1000:.0f} /"
            f" {pct['90'] / 1000:.0f} / {pct['99'] / 1000:.0f} /"
            f" {w['latency_us']['max'] / 1000:.0f} |",
            f"| behind schedule: worst / mean (s) | {w['late_max_s']:.1f} / "
            f"{w['late_sum_s'] / max(1, w['loaded']):.2f} |",
            f"| answers by status; cut off and sent again | {led['single_statuses']};"
            f" {led.get('cut_off_retried', {})} |",
            "| wrk socket errors (connect / read / write / timeout) | "
            + " / ".join(str(w["errors"][k]) for k in ("connect", "read", "write", "timeout"))
            + " |",
            f"| offline queues at 07:00 (phones x items) | {b['phones']} x "
            f"{b['items'] // max(1, b['phones'])}; batch p50 {b['p50_s']} s, max {b['max_s']} s;"
            f" statuses {led['batch_statuses']} |",
            f"| machines from 07:10 | {f.get('punches', 0)} punches from the fleet in "
            f"{f.get('seconds', '-')} s, p99 {f.get('punch_p99_ms', '-')} ms, resent after a "
            f"reply lost on purpose {f.get('resent', '-')}, exactly once: "
            f"{f.get('exactly_once', '-')} |",
            f"| ledger: 201 single + 201 batch items = phone rows | {led['answered_201_single']} +"
            f" {led['answered_201_batch_items']} = {led['ledger_phone_rows']} |",
            f"| missing / twice / stored unannounced | {led['missing']} / {led['twice']} / "
            f"{led['unannounced']} |",
            f"| check-in server workers peak RSS (MiB) | {rss['checkin']}"
            + (f" (master {rss['checkin_master']})" if rss.get("checkin_master") else "")
            + " |",
            f"| machine server processes peak RSS (MiB) | {rss['machines']} |",
            *(
                [
                    f"| task workers (`tepat db_worker`) peak RSS (MiB); tasks queued | "
                    f"{rss['tasks']}; {r.get('tasks_run', {})} |"
                ]
                if rss.get("tasks")
                else []
            ),
            *(
                [
                    "| cores used during the timed part (CPU s per s) | "
                    + ", ".join(f"{k} {v}" for k, v in r["cpu_cores"].items() if k != "seconds")
                    + " |"
                ]
                if r.get("cpu_cores")
                else []
            ),
            f"| nothing lost, nothing twice | **{'yes' if r['ok'] else 'NO'}** |",
            "",
            _pace(r),
            *(["", r["note"]] if r.get("note") else []),
        ]
    )


def _pace(r: dict[str, Any]) -> str:
    """What the compressed morning asked of the server against what it gave."""
    w, b = r["wrk"], r["backlog"]
    singles = w["loaded"] - w["opens"]
    real_peak = 2 * singles / WINDOW_S  # the triangle's height: phones per second at 07:20
    rate = r.get("rate_mean_per_s") or 0
    return (
        f"A real morning (1x) brings {real_peak:.0f} single check-ins/s at 07:20 from these "
        f"{singles:,} phones (the triangle's top, 2n / 5,400 s) and {b['items']:,} queued ones "
        f"at 07:00; compressed {r['schedule']['compress']:g}x that is "
        f"{real_peak * r['schedule']['compress']:,.0f}/s at the top, more than the server "
        f"answers ({rate}/s on average here, offline queues and machines included on the same "
        "2 cores), so the check-ins waited in the load generator (*behind schedule*) and none "
        "was refused or lost for it. At the pace measured here (a shared machine: see the load "
        "average and the other programs' cores) the same server keeps up with a real "
        f"morning's top for about {rate * WINDOW_S / 2:,.0f} phones."
    )


if __name__ == "__main__":
    raise SystemExit(main())
