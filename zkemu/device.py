"""An emulated ZKTeco attendance terminal that speaks the PUSH protocol to a server over real
HTTP, with the real-firmware quirks of the domain note devices.md as switches."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from zkemu import protocol as p
from zkemu.state import DeviceClock, Entry, Journal
from zkemu.transport import HttpTransport, Reply, TransportError

P = ParamSpec("P")
R = TypeVar("R")

# Which TransFlag names let each kind of row be uploaded.
KIND_FLAGS: dict[str, frozenset[str]] = {
    "ATT": frozenset({"AttLog"}),
    "RAW": frozenset({"AttLog"}),
    "OPLOG": frozenset({"OpLog"}),
    "USER": frozenset({"EnrollUser", "ChgUser"}),
    "FP": frozenset({"EnrollFP", "ChgFP"}),
}
# Verbs a real device would run but Tepat must never send (devices.md §6, §8).
FORBIDDEN_VERBS = frozenset({"SHELL", "GETFILE", "PUTFILE", "UPGRADE", "CLEAR"})
DEFAULT_MALFORMED_LINE = "12\x0034\tnot-a-time\tx\t1\t0\t0\t0"


@dataclass(frozen=True)
class Quirks:
    """Firmware variants and faults, all off by default (a well-behaved push 2.4.1 device)."""

    aspx: bool = False  # /iclock/cdata.aspx, getrequest.aspx, devicecmd.aspx, ping.aspx
    expect_continue: bool = False  # `Expect: 100-continue` on every POST with a body
    expect_wait: float = 1.0  # seconds to wait for `100 Continue` before sending anyway
    table_stamp_names: bool = False  # ATTLOGStamp= / OPERLOGStamp= instead of Stamp=
    name_encoding: str = "utf-8"  # "gb2312" on Chinese firmware
    attlog_fields: int = 7  # 10 on V3.9+ firmware (MaskFlag, Temperature, ConvTemperature)
    userinfo_table: bool = False  # USER rows posted with table=USERINFO instead of OPERLOG
    batch_size: int = 100  # rows per upload POST (the real limit is firmware-specific)
    reorder: bool = False  # shuffle the rows inside each batch
    duplicate_lines: bool = False  # repeat some rows inside each batch
    replay_batches: bool = False  # send every acknowledged batch a second time
    honour_numeric_stamp: bool = False  # old firmware: resume after the server's stamp value
    trailing_newline: bool = True  # end the body with LF (the spec example has none)
    ack_policy: str = "strict"  # "strict": all-or-nothing; "prefix": keep the first n lines
    bare_ok_acks: bool = False  # accept a bare `OK` as acknowledging a whole data batch
    content_type: str | None = None  # Content-Type of POSTs; devices send none we rely on

    def __post_init__(self) -> None:
        if self.ack_policy not in ("strict", "prefix"):
            raise ValueError("ack_policy is 'strict' or 'prefix'")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


@dataclass
class Stats:
    requests: int = 0
    handshakes: int = 0
    transport_errors: int = 0
    http_errors: int = 0
    batches_sent: int = 0
    batches_acked: int = 0
    batches_partial: int = 0
    batches_failed: int = 0
    lines_sent: int = 0
    lines_resent: int = 0
    short_acks: int = 0
    lost_acks: int = 0
    replays: int = 0
    query_lines_sent: int = 0
    pings: int = 0
    polls: int = 0
    commands_executed: int = 0
    results_posted: int = 0
    continues_received: int = 0


@dataclass(frozen=True)
class _Outcome:
    ret: int
    cmd: str
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


class Device:
    """An emulated terminal. Drive it step by step (`boot`, `punch`, `flush`, `poll`, `sync`)
    or let `run` loop with the server's Delay / ErrorDelay. Every network loop is bounded."""

    def __init__(
        self,
        sn: str,
        url: str,
        *,
        quirks: Quirks | None = None,
        clock: DeviceClock | None = None,
        timeout: float = 5.0,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = 0,
        push_version: str = "2.4.1",
        language: str = "73",
        pushcommkey: str | None = None,
        firmware: str = "Ver 8.0.4.2-20230807",
        model: str = "SpeedFace-V5L",
        ip: str = "10.1.2.3",
        mac: str = "00:17:61:12:34:56",
        sync_clock: bool = True,
        auto_upload: bool = True,
    ) -> None:
        self.sn = sn
        self.quirks = quirks or Quirks()
        self.transport = HttpTransport(url, timeout=timeout)
        self.clock = clock or DeviceClock()
        self.time_scale = time_scale
        self._sleep = sleep
        self.rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        self.push_version = push_version
        self.language = language
        self.pushcommkey = pushcommkey
        self.firmware = firmware
        self.model = model
        self.ip = ip
        self.mac = mac
        self.sync_clock = sync_clock
        self.auto_upload = auto_upload

        self.users: dict[str, p.User] = {}
        self.attlog = Journal("ATTLOG")
        self.operlog = Journal("OPERLOG")
        self.attphoto_stamp = "0"
        self.options = p.ServerOptions()
        self.local_options: dict[str, str] = {}
        self.negotiated_version = p.DEFAULT_PUSH_VERSION

        self.booted = False
        self.is_online = True
        self.stats = Stats()
        self.violations: list[str] = []
        self.last_error = ""
        self.last_server_date: datetime | None = None
        self.commands_received: list[p.Command] = []
        self.results_sent: list[p.CommandResult] = []
        self.dropped_lines: list[str] = []
        self.forbidden_received: list[p.Command] = []
        self.repeated_command_ids: list[str] = []

        self._lock = threading.RLock()
        self._powered = False
        self._info_due = False
        self._lose_acks = 0
        self._sent: set[tuple[str, int]] = set()
        self._seen_cmd_ids: set[str] = set()
        self._pending_results: list[p.CommandResult] = []
        self._upload_requested = False
        self._reboot_requested = False

    # -----------------------------------------------------------------------------------------
    # Things that happen at the terminal

    @_locked
    def punch(
        self,
        pin: str | int,
        status: int = 0,
        verify: int = 1,
        *,
        workcode: str = "0",
        at: datetime | None = None,
    ) -> p.AttRecord:
        """A user punches. With Realtime=1 (and the device booted and online) it is uploaded at
        once; otherwise it waits for `flush`."""
        moment = (at or self.clock.now()).replace(microsecond=0)
        record = p.AttRecord(str(pin), moment, status, verify, workcode)
        self.attlog.append("ATT", record=record)
        self._realtime_flush()
        return record

    @_locked
    def record_punches(
        self,
        count: int,
        pins: Sequence[str | int],
        *,
        start: datetime | None = None,
        step: timedelta = timedelta(seconds=7),
        statuses: Sequence[int] = (0, 1),
        verify: int = 1,
    ) -> list[p.AttRecord]:
        """`count` punches spread `step` apart (default: ending now), cycling through `pins`;
        stored without uploading (an offline burst, or punches between scheduled uploads)."""
        if not pins:
            raise ValueError("need at least one PIN")
        first = start or self.clock.now().replace(microsecond=0) - step * count
        records = []
        for index in range(count):
            status = statuses[(index // len(pins)) % len(statuses)]
            record = p.AttRecord(str(pins[index % len(pins)]), first + step * index, status, verify)
            self.attlog.append("ATT", record=record)
            records.append(record)
        return records

    @_locked
    def add_malformed_line(self, line: str = DEFAULT_MALFORMED_LINE) -> Entry:
        """A corrupt row in the attendance log: uploaded (and counted) like any other line."""
        return self.attlog.append("RAW", line=line)

    @_locked
    def enroll_user(
        self,
        pin: str | int,
        name: str = "",
        *,
        privilege: int = 0,
        card: str = "",
        password: str = "",
        fingerprint: bool = False,
        operator: str = "0",
    ) -> p.User:
        """Enrolment at the terminal: OPLOG 30, a USER row and optionally an FP template row."""
        user = p.User(str(pin), name, privilege, password, card)
        self.users[user.pin] = user
        self._log_op(p.OP_NEW_USER, operator, value1=user.pin)
        self.operlog.append("USER", line=user.to_line())
        if fingerprint:
            self.operlog.append("FP", line=p.fingerprint_line(user.pin))
        self._realtime_flush()
        return user

    @_locked
    def set_time(self, local: datetime, *, operator: str = "0") -> None:
        """An operator sets the clock from the menu: OPLOG 21, then punches carry the new time."""
        self.clock.set(local)
        self._log_op(p.OP_SET_TIME, operator)
        self._realtime_flush()

    @_locked
    def drift(self, delta: timedelta) -> None:
        """The clock moves without any log entry (RTC drift, a flat CMOS battery)."""
        self.clock.shift(delta)

    @_locked
    def factory_reset(self, *, operator: str = "0") -> None:
        """OPLOG 22; the server-set options are forgotten (data is kept)."""
        self._log_op(p.OP_FACTORY_RESET, operator)
        self._realtime_flush()
        self.options = p.ServerOptions()
        self.local_options.clear()

    @_locked
    def clear_attlog(self, *, operator: str = "0") -> None:
        """OPLOG 23 (delete logs) and the attendance log is wiped on the device."""
        self.attlog.clear()
        self._log_op(p.OP_DELETE_LOGS, operator)
        self._realtime_flush()

    @_locked
    def reset_stamps(self) -> None:
        """Stamps back to 0: the device re-uploads everything it holds."""
        self.attlog.reset()
        self.operlog.reset()

    @_locked
    def go_offline(self) -> None:
        self.is_online = False

    @_locked
    def go_online(self, *, flush: bool = True, max_failures: int = 5) -> bool:
        """The network returns; by default the backlog is uploaded in firmware-sized batches."""
        self.is_online = True
        return self.flush(max_failures=max_failures) if flush else True

    @_locked
    def lose_next_acks(self, count: int = 1) -> None:
        """The next `count` upload replies are lost on the way back (read, then discarded as a
        timeout), so the device resends the same batch."""
        self._lose_acks += count

    # -----------------------------------------------------------------------------------------
    # Protocol: handshake, uploads, polling

    @_locked
    def boot(self) -> bool:
        """Power on (OPLOG 0 once per power cycle), handshake, then push the device options."""
        if not self._powered:
            self._powered = True
            self._log_op(p.OP_POWER_ON, "0")
        if not self._handshake():
            return False
        self.booted = True
        self._info_due = True
        self._push_device_options()
        return True

    @_locked
    def reboot(self) -> bool:
        self.booted = False
        self._powered = False
        return self.boot()

    @_locked
    def upload(self, table: str = "ATTLOG") -> bool:
        """Upload one table's pending rows in batches, stopping at the first failed batch.
        `table` is ATTLOG, OPERLOG or (with the userinfo_table quirk) USERINFO."""
        if not self._ensure_booted():
            return False
        for name, journal, kinds in self._routes():
            if name == table:
                return self._upload_route(name, journal, kinds)
        return True

    @_locked
    def flush(self, *, max_failures: int = 5) -> bool:
        """Upload everything pending, waiting ErrorDelay (times time_scale) after a failure."""
        for attempt in range(max_failures):
            if self._flush_once():
                return True
            if not self.is_online or attempt == max_failures - 1:
                break
            self._wait(self.options.error_delay)
        return self.pending_count() == 0

    @_locked
    def poll(self) -> list[p.Command]:
        """One `GET getrequest`; runs the commands, posts their results batched to devicecmd."""
        if not self._ensure_booted():
            return []
        query = [("SN", self.sn)]
        if self._info_due:
            query.append(("INFO", self._info_param()))
        reply = self._call("GET", "getrequest", query)
        self.stats.polls += 1
        if reply is None:
            return []
        self._info_due = False
        self._check_date(reply, "getrequest")
        commands, dropped = p.parse_command_body(reply.text(self.quirks.name_encoding))
        self.dropped_lines += dropped
        self._pending_results += [self._execute(command) for command in commands]
        self._post_results()
        self._after_commands()
        return commands

    @_locked
    def ping(self) -> bool:
        reply = self._call("GET", "ping", [("SN", self.sn)])
        self.stats.pings += 1
        return reply is not None and p.parse_ack(reply.text()).ok

    @_locked
    def sync(self, *, max_rounds: int = 20) -> bool:
        """Flush and poll until no row is pending and the server has no more commands."""
        for _ in range(max_rounds):
            self.flush(max_failures=2)
            commands = self.poll()
            if not commands and not self._pending_results and self.pending_count() == 0:
                return True
        return False

    def run(
        self, duration: float, *, max_cycles: int = 100_000, stop: threading.Event | None = None
    ) -> None:
        """Behave like a terminal for `duration` seconds: upload per Realtime / TransInterval,
        poll every Delay seconds, back off ErrorDelay after a failure (all times time_scale)."""
        deadline = time.monotonic() + duration
        last_upload = time.monotonic()
        for _ in range(max_cycles):
            if (stop is not None and stop.is_set()) or time.monotonic() >= deadline:
                return
            if not self.booted and not self.boot():
                self._wait(self.options.error_delay, stop)
                continue
            interval_due = time.monotonic() - last_upload >= self.options.trans_interval * 60
            if self.pending_count() and (self.options.realtime or interval_due):
                self.flush(max_failures=1)
                last_upload = time.monotonic()
            self.poll()
            self._wait(self.options.delay, stop)

    # -----------------------------------------------------------------------------------------
    # Inspection

    def pending_count(self) -> int:
        with self._lock:
            return sum(len(journal.pending(kinds)) for _, journal, kinds in self._routes())

    def recorded_keys(self) -> set[p.PunchKey]:
        """Every punch the device holds, by the server's dedupe key (without the SN)."""
        with self._lock:
            return {e.record.key for e in self.attlog.entries if e.record is not None}

    def acked_keys(self) -> set[p.PunchKey]:
        with self._lock:
            return {
                e.record.key
                for e in self.attlog.entries
                if e.record is not None and self.attlog.is_acked(e.seq)
            }

    @property
    def stamps(self) -> dict[str, str]:
        return {
            "ATTLOGStamp": str(self.attlog.stamp),
            "OPERLOGStamp": str(self.operlog.stamp),
            "ATTPHOTOStamp": self.attphoto_stamp,
        }

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sn": self.sn,
                "booted": self.booted,
                "punches": sum(1 for e in self.attlog.entries if e.record is not None),
                "attlog_rows": len(self.attlog),
                "operlog_rows": len(self.operlog),
                "pending": self.pending_count(),
                "stamps": self.stamps,
                "stats": asdict(self.stats),
                "commands": [c.to_line() for c in self.commands_received],
                "dropped_lines": list(self.dropped_lines),
                "violations": list(self.violations),
                "last_error": self.last_error,
            }

    def send_raw(
        self,
        method: str,
        endpoint: str,
        query: Sequence[tuple[str, str]],
        body: bytes | None = None,
        *,
        expect_continue: bool = False,
    ) -> Reply:
        """An arbitrary request from this device (abuse cases: oversize bodies, junk tables).
        Raises TransportError on a network failure."""
        path = f"/iclock/{endpoint}{'.aspx' if self.quirks.aspx else ''}"
        return self.transport.request(
            method, path, query, body, expect_continue=expect_continue, expect_wait=0.5
        )

    # -----------------------------------------------------------------------------------------
    # Internals: HTTP

    def _call(
        self,
        method: str,
        endpoint: str,
        query: Sequence[tuple[str, str]],
        body: bytes | None = None,
    ) -> Reply | None:
        """One request; None on any failure (offline, network error, non-200)."""
        if not self.is_online:
            self.last_error = "offline"
            return None
        path = f"/iclock/{endpoint}{'.aspx' if self.quirks.aspx else ''}"
        self.stats.requests += 1
        try:
            reply = self.transport.request(
                method,
                path,
                query,
                body,
                expect_continue=self.quirks.expect_continue and body is not None,
                expect_wait=self.quirks.expect_wait,
                content_type=self.quirks.content_type if body is not None else None,
            )
        except TransportError as exc:
            self.stats.transport_errors += 1
            self.last_error = str(exc)
            return None
        self.stats.continues_received += reply.continue_received
        if reply.status != 200:
            self.stats.http_errors += 1
            self.last_error = f"{method} {path}: HTTP {reply.status}"
            return None
        return reply

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def _wait(self, seconds: float, stop: threading.Event | None = None) -> None:
        delay = seconds * self.time_scale
        if delay <= 0:
            return
        if stop is not None:
            stop.wait(delay)
        else:
            self._sleep(delay)

    def _check_date(self, reply: Reply, what: str) -> datetime | None:
        moment = p.parse_http_date(reply.header("Date"))
        if moment is None:
            self._violation(f"{what} reply has no valid Date header")
        return moment

    def _ensure_booted(self) -> bool:
        return self.is_online and (self.booted or self.boot())

    # -----------------------------------------------------------------------------------------
    # Internals: handshake

    def _handshake(self) -> bool:
        query = [
            ("SN", self.sn),
            ("options", "all"),
            ("pushver", self.push_version),
            ("language", self.language),
        ]
        if self.pushcommkey:
            query.append(("pushcommkey", self.pushcommkey))
        reply = self._call("GET", "cdata", query)
        if reply is None:
            return False
        self.stats.handshakes += 1
        header_sn, options = p.parse_options_block(reply.text(self.quirks.name_encoding))
        if header_sn != self.sn:
            self._violation(f"handshake reply header names SN {header_sn!r}, not {self.sn!r}")
        self.options, notes = self.options.merged(options)
        for note in notes:
            self._violation(note)
        server_version = self.options.push_prot_ver or p.DEFAULT_PUSH_VERSION
        self.negotiated_version = p.lower_version(self.push_version, server_version)
        self._apply_stamps(p.stamps_from(options))
        self._sync_clock(reply)
        return True

    def _apply_stamps(self, stamps: dict[str, str]) -> None:
        """Stamp 0 -> re-upload everything. 9999 / None / missing -> keep the device's own
        cursor. Another number -> ignored by new firmware, resumed after by old firmware."""
        for table, journal in (("ATTLOG", self.attlog), ("OPERLOG", self.operlog)):
            value = stamps.get(table, "").strip()
            if value == "0":
                journal.reset()
            elif value.isdigit() and value != "9999" and self.quirks.honour_numeric_stamp:
                journal.resume_after(int(value))
        if "ATTPHOTO" in stamps:
            self.attphoto_stamp = stamps["ATTPHOTO"]

    def _sync_clock(self, reply: Reply) -> None:
        moment = self._check_date(reply, "handshake")
        if moment is None:
            return
        self.last_server_date = moment
        if self.sync_clock:
            self.clock.set(moment.replace(tzinfo=None) + self.options.timezone)

    def _push_device_options(self) -> bool:
        pairs = [
            ("~DeviceName", self.model),
            ("MAC", self.mac),
            ("FirmVer", self.firmware),
            ("IPAddress", self.ip),
            ("FingerFunOn", "1"),
            ("FaceFunOn", "1"),
            ("UserCount", str(len(self.users))),
            ("TransactionCount", str(self._punch_count())),
            ("PushVersion", self.push_version),
        ]
        body = p.format_device_options(pairs).encode(self.quirks.name_encoding, "replace")
        reply = self._call("POST", "cdata", [("SN", self.sn), ("table", "options")], body)
        return reply is not None and p.parse_ack(reply.text()).ok

    def _info_param(self) -> str:
        fingerprints = sum(1 for e in self.operlog.entries if e.kind == "FP")
        counts = [len(self.users), fingerprints, self._punch_count()]
        # firmware, users, FPs, punches, IP, FP algorithm, face algorithm, faces needed,
        # face count, feature bits
        return p.format_info_param([self.firmware, *counts, self.ip, 10, 7, 15, 0, 111])

    def _punch_count(self) -> int:
        return sum(1 for e in self.attlog.entries if e.record is not None)

    # -----------------------------------------------------------------------------------------
    # Internals: uploads

    def _log_op(self, op_type: int, operator: str, *, value1: str = "0") -> None:
        record = p.OpRecord(op_type, operator, self.clock.now().replace(microsecond=0), value1)
        self.operlog.append("OPLOG", line=record.to_line())

    def _realtime_flush(self) -> None:
        if self.auto_upload and self.booted and self.is_online and self.options.realtime:
            self._flush_once()

    def _routes(self) -> list[tuple[str, Journal, frozenset[str]]]:
        flags = self.options.trans_flags
        allowed = {kind for kind, needs in KIND_FLAGS.items() if needs & flags}
        routes = [("ATTLOG", self.attlog, frozenset(allowed & {"ATT", "RAW"}))]
        operlog_kinds = allowed & {"OPLOG", "USER", "FP"}
        if self.quirks.userinfo_table and "USER" in operlog_kinds:
            routes.append(("USERINFO", self.operlog, frozenset({"USER"})))
            operlog_kinds.discard("USER")
        routes.append(("OPERLOG", self.operlog, frozenset(operlog_kinds)))
        return routes

    def _flush_once(self) -> bool:
        if not self._ensure_booted():
            return False
        for table, journal, kinds in self._routes():
            if not self._upload_route(table, journal, kinds):
                return False
        return self.pending_count() == 0

    def _upload_route(self, table: str, journal: Journal, kinds: frozenset[str]) -> bool:
        """Batches until the table is drained or a batch fails. Each successful batch acks at
        least one row, so the loop is bounded by the number of pending rows."""
        limit = len(journal.pending(kinds)) + 1
        for batch_number in range(limit):
            entries = journal.pending(kinds, self.quirks.batch_size)
            if not entries:
                return True
            if batch_number > 0:
                self.ping()  # keep-alive between the batches of a large upload (spec §11)
            if not self._send_batch(table, journal, entries):
                return False
        return not journal.pending(kinds)

    def _send_batch(self, table: str, journal: Journal, entries: list[Entry]) -> bool:
        wire = self._wire_lines(entries)
        body = self._encode([line for _, line in wire])
        reply = self._post_cdata(table, journal, body)
        self._note_sent(journal, wire)
        if reply is not None and self._lose_acks > 0:
            self._lose_acks -= 1
            self.stats.lost_acks += 1
            self.last_error = f"{table}: reply lost (simulated timeout)"
            reply = None
        acked = self._acknowledged(table, reply, wire) if reply is not None else []
        if not acked:
            self.stats.batches_failed += 1
            return False
        journal.ack(acked)
        if len(set(acked)) < len({seq for seq, _ in wire}):
            self.stats.batches_partial += 1
        else:
            self.stats.batches_acked += 1
            if self.quirks.replay_batches:
                self._replay(table, journal, body, len(wire))
        return True

    def _wire_lines(self, entries: list[Entry]) -> list[tuple[int, str]]:
        wire = [(e.seq, e.render(self.quirks.attlog_fields)) for e in entries]
        if self.quirks.duplicate_lines:
            extra = [row for row in wire if self.rng.random() < 0.25] or wire[:1]
            wire += extra
        if self.quirks.reorder:
            self.rng.shuffle(wire)
        return wire

    def _encode(self, lines: Iterable[str]) -> bytes:
        text = "\n".join(lines) + ("\n" if self.quirks.trailing_newline else "")
        return text.encode(self.quirks.name_encoding, errors="replace")

    def _stamp_param(self, table: str) -> str:
        return f"{table}Stamp" if self.quirks.table_stamp_names else "Stamp"

    def _post_cdata(self, table: str, journal: Journal, body: bytes) -> Reply | None:
        query = [("SN", self.sn), ("table", table)]
        if table in ("ATTLOG", "OPERLOG"):
            query.append((self._stamp_param(table), str(journal.stamp)))
        self.stats.batches_sent += 1
        return self._call("POST", "cdata", query, body)

    def _note_sent(self, journal: Journal, wire: list[tuple[int, str]]) -> None:
        self.stats.lines_sent += len(wire)
        for seq in {seq for seq, _ in wire}:
            key = (journal.table, seq)
            if key in self._sent:
                self.stats.lines_resent += 1
            self._sent.add(key)

    def _acknowledged(self, table: str, reply: Reply, wire: list[tuple[int, str]]) -> list[int]:
        """Sequence numbers the reply acknowledges: all of them for `OK:<lines sent>`; with the
        prefix policy the first n lines for `OK:n`; none otherwise (the batch is resent)."""
        ack = p.parse_ack(reply.text())
        sent = len(wire)
        if not ack.ok:
            self.last_error = f"{table}: server replied {ack.text[:80]!r}"
            return []
        if ack.count is None:
            if self.quirks.bare_ok_acks:
                return [seq for seq, _ in wire]
            self._violation(f"{table}: bare 'OK' to a {sent}-line upload (expected OK:{sent})")
            return []
        if not 0 <= ack.count <= sent:
            self._violation(f"{table}: OK:{ack.count} acknowledges more than the {sent} lines")
            return []
        if ack.count == sent:
            return [seq for seq, _ in wire]
        self.stats.short_acks += 1
        self.last_error = f"{table}: OK:{ack.count} for {sent} lines"
        if self.quirks.ack_policy == "prefix":
            return [seq for seq, _ in wire[: ack.count]]
        return []

    def _replay(self, table: str, journal: Journal, body: bytes, sent: int) -> None:
        self.stats.replays += 1
        reply = self._post_cdata(table, journal, body)
        self.stats.lines_sent += sent
        ack = p.parse_ack(reply.text()) if reply is not None else None
        if ack is None or ack.count != sent:
            got = "no reply" if ack is None else repr(ack.text)
            self._violation(f"{table}: replayed {sent}-line batch answered {got}, not OK:{sent}")

    def _direct_upload(self, table: str, lines: list[str], attempts: int = 3) -> bool:
        """Query results: uploaded outside the journal, each batch retried a few times."""
        journal = self.attlog if table == "ATTLOG" else self.operlog
        size = self.quirks.batch_size
        for start in range(0, len(lines), size):
            chunk = lines[start : start + size]
            if not self._direct_batch(table, journal, chunk, attempts):
                return False
        return True

    def _direct_batch(self, table: str, journal: Journal, chunk: list[str], attempts: int) -> bool:
        body = self._encode(chunk)
        for _ in range(attempts):
            reply = self._post_cdata(table, journal, body)
            self.stats.query_lines_sent += len(chunk)
            if reply is None:
                continue
            ack = p.parse_ack(reply.text())
            if ack.ok and (ack.count == len(chunk) or (ack.count is None and self._bare_ok())):
                return True
        return False

    def _bare_ok(self) -> bool:
        return self.quirks.bare_ok_acks

    # -----------------------------------------------------------------------------------------
    # Internals: commands

    def _post_results(self) -> bool:
        if not self._pending_results:
            return True
        body = "\n".join(result.to_text() for result in self._pending_results) + "\n"
        encoded = body.encode(self.quirks.name_encoding, errors="replace")
        reply = self._call("POST", "devicecmd", [("SN", self.sn)], encoded)
        if reply is None:
            return False
        ack = p.parse_ack(reply.text())
        if not ack.ok:
            self._violation(f"devicecmd reply {ack.text[:80]!r}, expected OK")
            return False
        self.stats.results_posted += len(self._pending_results)
        self.results_sent += self._pending_results
        self._pending_results = []
        return True

    def _after_commands(self) -> None:
        if self._reboot_requested:
            self._reboot_requested = False
            self.reboot()
        if self._upload_requested:
            self._upload_requested = False
            self.flush(max_failures=1)

    def _execute(self, command: p.Command) -> p.CommandResult:
        self.commands_received.append(command)
        self.stats.commands_executed += 1
        self._check_command(command)
        words, args = p.split_command(command.text)
        verb = words[0].upper() if words else ""
        if verb in FORBIDDEN_VERBS:
            self.forbidden_received.append(command)
        outcome = self._dispatch([w.upper() for w in words], words, args)
        return p.CommandResult(
            command.cmd_id, outcome.ret, outcome.cmd, outcome.fields, [*outcome.lines]
        )

    def _check_command(self, command: p.Command) -> None:
        if not p.is_valid_cmd_id(command.cmd_id):
            self._violation(f"command id {command.cmd_id!r} is not 1-16 letters/digits")
        if command.cmd_id in self._seen_cmd_ids:
            self.repeated_command_ids.append(command.cmd_id)
        self._seen_cmd_ids.add(command.cmd_id)
        if "\\t" in command.text:
            self._violation(f"command {command.cmd_id}: literal backslash-t instead of TAB")

    def _dispatch(self, upper: list[str], words: list[str], args: str) -> _Outcome:
        head = tuple(upper[:2])
        if upper[:1] == ["DATA"]:
            return self._cmd_data(upper, args)
        if head == ("VERIFY", "SUM"):
            return self._cmd_verify_sum(upper, args)
        if head == ("SET", "OPTION"):
            return self._cmd_set_option(args)
        if head == ("GET", "OPTION"):
            return self._cmd_get_option(words)
        if upper[:1] == ["CLEAR"]:
            return self._cmd_clear(upper)
        simple: dict[tuple[str, ...], Callable[[], _Outcome]] = {
            ("INFO",): self._cmd_info,
            ("CHECK",): self._cmd_check,
            ("LOG",): self._cmd_log,
            ("REBOOT",): self._cmd_reboot,
            ("RELOAD", "OPTIONS"): lambda: _Outcome(p.RET_OK, "RELOAD OPTIONS"),
        }
        handler = simple.get(tuple(upper))
        if handler is not None:
            return handler()
        return _Outcome(p.RET_NOT_SUPPORTED, words[0] if words else "")

    def _cmd_data(self, upper: list[str], args: str) -> _Outcome:
        if len(upper) < 3 or upper[1] not in ("UPDATE", "DELETE", "QUERY"):
            return _Outcome(p.RET_NOT_SUPPORTED, "DATA")  # e.g. `DATA DEL USERINFO`
        fields = p.parse_fields(args)
        if any(p.has_control_chars(value) for value in fields.values()):
            self._violation(f"control character in a command field: {args[:80]!r}")
            return _Outcome(p.RET_PARAM_ERROR, "DATA")
        handlers: dict[tuple[str, str], Callable[[dict[str, str]], int]] = {
            ("UPDATE", "USERINFO"): self._update_user,
            ("DELETE", "USERINFO"): self._delete_user,
            ("QUERY", "USERINFO"): self._query_users,
            ("QUERY", "ATTLOG"): self._query_attlog,
        }
        handler = handlers.get((upper[1], upper[2]))
        if handler is None:
            return _Outcome(p.RET_TABLE_NOT_SUPPORTED, "DATA")
        return _Outcome(handler(fields), "DATA")

    def _update_user(self, fields: dict[str, str]) -> int:
        if not fields.get("PIN"):
            return p.RET_PARAM_ERROR
        try:
            user = p.User.from_fields(fields)
        except ValueError:
            return p.RET_PARAM_ERROR
        self.users[user.pin] = user
        return p.RET_OK

    def _delete_user(self, fields: dict[str, str]) -> int:
        pin = fields.get("PIN", "")
        if not pin:
            return p.RET_PARAM_ERROR
        if self.users.pop(pin, None) is None:
            return p.RET_PIN_NOT_FOUND
        return p.RET_OK

    def _query_users(self, fields: dict[str, str]) -> int:
        pin = fields.get("PIN")
        users = [u for u in self.users.values() if pin is None or u.pin == pin]
        if pin is not None and not users:
            return p.RET_PIN_NOT_FOUND
        table = "USERINFO" if self.quirks.userinfo_table else "OPERLOG"
        ok = self._direct_upload(table, [user.to_line() for user in users])
        return p.RET_OK if ok else p.RET_TIMEOUT

    def _query_attlog(self, fields: dict[str, str]) -> int:
        window = _window(fields)
        if window is None:
            return p.RET_PARAM_ERROR
        records = self._records_between(*window)
        lines = [record.to_line(self.quirks.attlog_fields) for record in records]
        return p.RET_OK if self._direct_upload("ATTLOG", lines) else p.RET_TIMEOUT

    def _records_between(self, start: datetime, end: datetime) -> list[p.AttRecord]:
        return [
            e.record
            for e in self.attlog.entries
            if e.record is not None and start <= e.record.time <= end
        ]

    def _cmd_verify_sum(self, upper: list[str], args: str) -> _Outcome:
        if len(upper) < 3 or upper[2] != "ATTLOG":
            return _Outcome(p.RET_TABLE_NOT_SUPPORTED, "VERIFY SUM")
        fields = p.parse_fields(args)
        window = _window(fields)
        if window is None:
            return _Outcome(p.RET_PARAM_ERROR, "VERIFY SUM")
        count = len(self._records_between(*window))
        echo = {"StartTime": fields["StartTime"], "EndTime": fields["EndTime"]}
        return _Outcome(p.RET_OK, "VERIFY SUM", {**echo, "AttLogSum": str(count)})

    def _cmd_info(self) -> _Outcome:
        return _Outcome(p.RET_OK, "INFO", lines=[f"{k}={v}" for k, v in self._info_pairs()])

    def _info_pairs(self) -> list[tuple[str, str]]:
        fingerprints = sum(1 for e in self.operlog.entries if e.kind == "FP")
        return [
            ("~DeviceName", self.model),
            ("MAC", self.mac),
            ("TransactionCount", str(self._punch_count())),
            ("~MaxAttLogCount", "100000"),
            ("UserCount", str(len(self.users))),
            ("~MaxUserCount", "10000"),
            ("FingerFunOn", "1"),
            ("FPVersion", "10"),
            ("FPCount", str(fingerprints)),
            ("FaceFunOn", "1"),
            ("FaceVersion", "7"),
            ("FaceCount", "0"),
            ("FWVersion", self.firmware),
            ("IPAddress", self.ip),
            ("PushVersion", self.push_version),
        ]

    def _cmd_check(self) -> _Outcome:
        ok = self._handshake()
        self._upload_requested = True
        return _Outcome(p.RET_OK if ok else p.RET_TIMEOUT, "CHECK")

    def _cmd_log(self) -> _Outcome:
        self._upload_requested = True
        return _Outcome(p.RET_OK, "LOG")

    def _cmd_reboot(self) -> _Outcome:
        self._reboot_requested = True
        return _Outcome(p.RET_OK, "REBOOT")

    def _cmd_set_option(self, args: str) -> _Outcome:
        key, sep, value = args.partition("=")
        if not sep or not key.strip():
            return _Outcome(p.RET_PARAM_ERROR, "SET OPTION")
        self.local_options[key.strip()] = value
        self.options, notes = self.options.merged({key.strip(): value})
        return _Outcome(p.RET_PARAM_ERROR if notes else p.RET_OK, "SET OPTION")

    def _cmd_get_option(self, words: list[str]) -> _Outcome:
        key = words[3] if len(words) > 3 and words[2].upper() == "FROM" else ""
        value = self._option_value(key)
        if value is None:
            return _Outcome(p.RET_PARAM_ERROR, "GET OPTION")
        return _Outcome(p.RET_OK, "GET OPTION", lines=[f"{key}={value}"])

    def _option_value(self, key: str) -> str | None:
        known = {k.lstrip("~"): v for k, v in self._info_pairs()}
        known |= {"DeviceName": self.model, "MACAddress": self.mac}
        known |= {"AttLogCount": str(self._punch_count())}
        known |= {**self.options.raw, **self.local_options}
        return known.get(key)

    def _cmd_clear(self, upper: list[str]) -> _Outcome:
        """A real device obeys; Tepat must never send it (recorded in forbidden_received)."""
        what = upper[1] if len(upper) > 1 else ""
        if what in ("LOG", "DATA"):
            self.attlog.clear()
            self._log_op(p.OP_DELETE_LOGS, "0")
        if what == "DATA":
            self.users.clear()
        return _Outcome(p.RET_OK, f"CLEAR {what}".strip())


def _window(fields: dict[str, str]) -> tuple[datetime, datetime] | None:
    try:
        return p.parse_time(fields["StartTime"]), p.parse_time(fields["EndTime"])
    except (KeyError, ValueError):
        return None


def with_quirks(device: Device, **changes: Any) -> Device:
    """Switch quirks on a live device (e.g. go from 7- to 10-field lines after a firmware
    update)."""
    device.quirks = replace(device.quirks, **changes)
    return device
