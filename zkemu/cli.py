"""`python -m zkemu --url http://127.0.0.1:8000 --sn CQZ7230000001 --punches 1000 --pins 1,2,3`:
boot, punch (one realtime upload each, or an offline burst uploaded in batches), poll for
commands, print a summary. Exit status 0 when everything was acknowledged and the server broke
no protocol rule, 1 otherwise, 2 when the handshake failed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TextIO

from zkemu.device import Device, Quirks
from zkemu.server_stub import StubServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zkemu", description=__doc__)
    parser.add_argument("--url", help="server base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--stub", action="store_true", help="run against a local stub server")
    parser.add_argument("--sn", default="CQZ7230000001", help="device serial number")
    parser.add_argument("--punches", type=int, default=10, help="number of punches")
    parser.add_argument("--pins", default="1,2,3", help="comma-separated PINs to cycle through")
    parser.add_argument("--step", type=float, default=7.0, help="seconds between punches")
    parser.add_argument("--aspx", action="store_true", help="use /iclock/*.aspx paths")
    parser.add_argument("--offline-burst", action="store_true", help="punch offline, then flush")
    parser.add_argument("--expect-continue", action="store_true", help="Expect: 100-continue")
    parser.add_argument("--fields", type=int, choices=(7, 10), default=7, help="ATTLOG fields")
    parser.add_argument("--encoding", default="utf-8", help="name encoding (utf-8, gb2312)")
    parser.add_argument("--batch-size", type=int, default=100, help="rows per upload POST")
    parser.add_argument("--table-stamps", action="store_true", help="ATTLOGStamp= not Stamp=")
    parser.add_argument("--reorder", action="store_true", help="shuffle rows within a batch")
    parser.add_argument("--duplicates", action="store_true", help="repeat rows within a batch")
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout (s)")
    parser.add_argument("--poll-seconds", type=float, default=0.0, help="keep polling this long")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies server delays")
    parser.add_argument("--max-failures", type=int, default=5, help="upload retries")
    parser.add_argument("--seed", type=int, default=0, help="random seed for reorder/dupes")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def quirks_from(args: argparse.Namespace) -> Quirks:
    return Quirks(
        aspx=args.aspx,
        expect_continue=args.expect_continue,
        attlog_fields=args.fields,
        name_encoding=args.encoding,
        batch_size=args.batch_size,
        table_stamp_names=args.table_stamps,
        reorder=args.reorder,
        duplicate_lines=args.duplicates,
    )


def run_scenario(device: Device, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    if not device.boot():
        return {**device.summary(), "error": f"handshake failed: {device.last_error}"}
    pins = [pin.strip() for pin in args.pins.split(",") if pin.strip()]
    step = timedelta(seconds=args.step)
    if args.offline_burst:
        device.go_offline()
        device.record_punches(args.punches, pins, step=step)
        device.go_online(flush=True, max_failures=args.max_failures)
    else:
        first = device.clock.now().replace(microsecond=0) - step * args.punches
        for index in range(args.punches):
            status = (index // len(pins)) % 2
            device.punch(pins[index % len(pins)], status, at=first + step * index)
        device.flush(max_failures=args.max_failures)
    if args.poll_seconds > 0:
        device.run(args.poll_seconds)
    else:
        device.poll()
    return {**device.summary(), "elapsed_s": round(time.monotonic() - started, 3)}


def format_summary(summary: dict[str, Any]) -> str:
    stats = summary["stats"]
    lines = [
        f"device {summary['sn']}: booted={summary['booted']}",
        f"punches: {summary['punches']} recorded, {summary['pending']} rows pending",
        f"stamps: {summary['stamps']}",
        f"uploads: {stats['batches_sent']} POSTs, {stats['batches_acked']} acked, "
        f"{stats['batches_failed']} failed; {stats['lines_sent']} lines sent, "
        f"{stats['lines_resent']} resent, {stats['pings']} pings",
        f"commands: {len(summary['commands'])} executed, {stats['results_posted']} results posted",
        f"requests: {stats['requests']}, transport errors {stats['transport_errors']}, "
        f"HTTP errors {stats['http_errors']}",
        "violations: " + ("; ".join(summary["violations"]) or "none"),
    ]
    if summary.get("error"):
        lines.append(f"error: {summary['error']}")
    if "elapsed_s" in summary:
        lines.append(f"elapsed: {summary['elapsed_s']} s")
    return "\n".join(lines)


def exit_status(summary: dict[str, Any]) -> int:
    if summary.get("error"):
        return 2
    return 0 if summary["pending"] == 0 and not summary["violations"] else 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.stub and not args.url:
        parser.error("give --url or --stub")
    stub = StubServer().start() if args.stub else None
    try:
        url = stub.url if stub is not None else args.url
        device = Device(
            args.sn,
            url,
            quirks=quirks_from(args),
            timeout=args.timeout,
            time_scale=args.time_scale,
            seed=args.seed,
        )
        summary = run_scenario(device, args)
    finally:
        if stub is not None:
            stub.stop()
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary), file=out)
    return exit_status(summary)
