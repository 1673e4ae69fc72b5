"""A tiny reference ADMS server: just enough of the server side of devices.md to exercise the
emulator in its own tests (records what it receives, dedupes punches, answers `OK:n`, queues
commands, records their results) plus scriptable faults. A test double, not Tepat."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from zkemu import protocol as p

DEFAULT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("ErrorDelay", "30"),
    ("Delay", "10"),
    ("TransTimes", "00:00;14:05"),
    ("TransInterval", "1"),
    ("TransFlag", "TransData AttLog\tOpLog\tEnrollUser\tChgUser"),
    ("TimeZone", "7"),
    ("Realtime", "1"),
    ("Encrypt", "None"),
    ("ServerVer", "2.4.1"),
    ("PushProtVer", "2.4.1"),
)
TEMPLATE_PREFIXES = ("FP ", "FACE ", "BIODATA ", "BIOPHOTO ", "USERPIC ")
DATA_TABLES = ("ATTLOG", "OPERLOG", "USERINFO")


@dataclass(frozen=True)
class Fault:
    """How the stub answers one data upload (ATTLOG / OPERLOG / USERINFO POST)."""

    kind: str = "ok"
    n: int = 0
    seconds: float = 0.0
    text: str = "ERROR: database unavailable"

    @classmethod
    def ok(cls) -> Fault:
        """Commit every line, reply OK:<lines>."""
        return cls("ok")

    @classmethod
    def partial(cls, n: int) -> Fault:
        """Commit only the first n lines, reply OK:n."""
        return cls("partial", n=n)

    @classmethod
    def error(cls, text: str = "ERROR: database unavailable") -> Fault:
        """Commit nothing, reply 200 with an error text."""
        return cls("error", text=text)

    @classmethod
    def http_500(cls) -> Fault:
        return cls("http_500")

    @classmethod
    def drop_before(cls) -> Fault:
        """Commit nothing and close the connection without a reply."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Commit everything, then close without a reply (the device sees a timeout)."""
        return cls("drop_after")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Commit everything, then answer OK:<lines> after `seconds`."""
        return cls("delay", seconds=seconds)

    @classmethod
    def bare_ok(cls) -> Fault:
        """Commit everything, reply a bare `OK` (what many lenient servers do)."""
        return cls("bare_ok")

    @classmethod
    def new_only(cls) -> Fault:
        """Commit everything, reply OK:<newly stored rows> (0 for a resent batch): the wrong
        reading of `n` that makes a strict device resend forever."""
        return cls("new_only")


@dataclass(frozen=True)
class Upload:
    table: str
    query: dict[str, str]
    lines: list[str]
    reply: str


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class DeviceLog:
    """Everything the stub knows about one SN."""

    sn: str
    encoding: str | None = None  # None: UTF-8, falling back to GB18030 on bad bytes
    handshakes: list[dict[str, str]] = field(default_factory=list)
    punches: dict[p.PunchKey, p.AttRecord] = field(default_factory=dict)
    attlog_lines: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    oplog: list[p.OpRecord] = field(default_factory=list)
    oplog_lines: list[str] = field(default_factory=list)
    users: dict[str, p.User] = field(default_factory=dict)
    user_lines: list[str] = field(default_factory=list)
    templates_dropped: int = 0
    device_options: list[dict[str, str]] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    queue: deque[str] = field(default_factory=deque)
    sent_commands: list[str] = field(default_factory=list)
    results: list[p.CommandResult] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    polls: int = 0
    pings: int = 0
    stamps_seen: dict[str, str] = field(default_factory=dict)
    next_stamps: dict[str, str] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)

    def decode(self, body: bytes) -> str:
        if self.encoding:
            return body.decode(self.encoding, errors="replace")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode("gb18030", errors="replace")

    def next_fault(self, table: str) -> Fault:
        queue = self.faults.get(table)
        return queue.popleft() if queue else Fault.ok()

    def result(self, cmd_id: str) -> p.CommandResult | None:
        return next((r for r in reversed(self.results) if r.cmd_id == cmd_id), None)

    def oplog_types(self) -> list[int]:
        return [record.op_type for record in self.oplog]


@dataclass(frozen=True)
class StubResponse:
    status: int = 200
    text: str = "OK"
    drop: bool = False  # close the connection without replying
    delay: float = 0.0  # seconds to wait before replying


class StubServer:
    """Threaded http.server on 127.0.0.1. Use as a context manager; `url` is the base URL."""

    def __init__(
        self,
        *,
        options: Mapping[str, str] | None = None,
        echo_stamps: bool = False,
        send_date: bool = True,
        answer_continue: bool = True,
        allowed_sns: Iterable[str] | None = None,
        max_body: int = 10 * 1024 * 1024,
        max_commands_per_poll: int = 50,
        now: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.options = {**dict(DEFAULT_OPTIONS), **(options or {})}
        self.echo_stamps = echo_stamps
        self.send_date = send_date
        self.answer_continue = answer_continue
        self.allowed_sns = None if allowed_sns is None else set(allowed_sns)
        self.max_body = max_body
        self.max_commands_per_poll = max_commands_per_poll
        self.now = now
        self.devices: dict[str, DeviceLog] = {}
        self.requests: list[RequestRecord] = []
        self.quarantined: list[RequestRecord] = []
        self.expect_continue_seen = 0
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._httpd = _HTTPServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # -- lifecycle

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StubServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test controls

    def device(self, sn: str) -> DeviceLog:
        with self._lock:
            return self.devices.setdefault(sn, DeviceLog(sn))

    def queue(self, sn: str, text: str, *, cmd_id: str | None = None) -> str:
        """Queue `C:<id>:<text>` for the device's next getrequest; returns the id."""
        with self._lock:
            ident = cmd_id or str(next(self._ids))
            self.device(sn).queue.append(p.Command(ident, text).to_line())
            return ident

    def queue_bare(self, sn: str, line: str) -> None:
        """Queue a line as-is (a bare command without `C:<id>:` is dropped by devices)."""
        with self._lock:
            self.device(sn).queue.append(line)

    def plan(self, sn: str, *faults: Fault, table: str = "ATTLOG") -> None:
        """Answer the next uploads of `table` from this SN with these faults, then normally.
        `table="devicecmd"` fails command-result posts instead (error kinds only)."""
        with self._lock:
            self.device(sn).faults.setdefault(table, deque()).extend(faults)

    def set_next_stamps(self, sn: str, **stamps: str) -> None:
        """Stamps for the next handshake only, e.g. ATTLOG="0" to ask for a full re-upload."""
        with self._lock:
            self.device(sn).next_stamps.update(stamps)

    def accepted_keys(self, sn: str) -> set[p.PunchKey]:
        with self._lock:
            return set(self.device(sn).punches)

    # -- request handling (called from the HTTP handler threads)

    def note_error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def note_expect(self) -> None:
        with self._lock:
            self.expect_continue_seen += 1

    def handle(self, request: RequestRecord) -> StubResponse:
        with self._lock:
            self.requests.append(request)
            endpoint = _endpoint(request.path)
            sn = request.query.get("SN", "")
            if endpoint is None:
                return StubResponse(404, "not found")
            if not sn:
                return StubResponse(400, "missing SN")
            if self.allowed_sns is not None and sn not in self.allowed_sns:
                self.quarantined.append(request)
                return StubResponse(text="OK")  # unknown SN: OK, so it does not retry-storm
            return self._route(request, endpoint, self.device(sn))

    def _route(self, request: RequestRecord, endpoint: str, log: DeviceLog) -> StubResponse:
        if request.method == "GET" and endpoint == "cdata":
            return self._handshake(request, log)
        if request.method == "POST" and endpoint == "cdata":
            return self._upload(request, log)
        if request.method == "GET" and endpoint == "getrequest":
            return self._getrequest(request, log)
        if request.method == "POST" and endpoint == "devicecmd":
            failure = _failure(log.next_fault("devicecmd"))
            if failure is not None:
                return failure
            log.results += p.parse_command_results(log.decode(request.body))
            return StubResponse(text="OK")
        if endpoint == "ping":
            log.pings += 1
            return StubResponse(text="OK")
        return StubResponse(404, "not found")

    def _handshake(self, request: RequestRecord, log: DeviceLog) -> StubResponse:
        if "options" not in request.query:
            return StubResponse(text="OK")  # e.g. table=RemoteAtt: no such user here
        log.handshakes.append(dict(request.query))
        stamps = {
            table: log.stamps_seen.get(table, "9999") if self.echo_stamps else "9999"
            for table in ("ATTLOG", "OPERLOG")
        }
        stamps |= {"ATTPHOTO": "None"}
        stamps |= log.next_stamps
        log.next_stamps = {}
        pairs = [(f"{table}Stamp", value) for table, value in stamps.items()]
        return StubResponse(text=p.format_options_block(log.sn, [*pairs, *self.options.items()]))

    def _upload(self, request: RequestRecord, log: DeviceLog) -> StubResponse:
        table = request.query.get("table", "")
        text = log.decode(request.body)
        self._note_stamp(request.query, table, log)
        if table == "options":
            log.device_options.append(p.parse_device_options(text))
            return StubResponse(text="OK")
        if table not in DATA_TABLES:
            return StubResponse(text="OK")  # ATTPHOTO, ERRORLOG: accepted and ignored
        lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
        response = self._apply_fault(log.next_fault(table), table, lines, log)
        log.uploads.append(Upload(table, dict(request.query), lines, response.text))
        return response

    def _note_stamp(self, query: dict[str, str], table: str, log: DeviceLog) -> None:
        value = query.get("Stamp", query.get(f"{table}Stamp"))
        if value is not None:
            log.stamps_seen[table] = value

    def _apply_fault(
        self, fault: Fault, table: str, lines: list[str], log: DeviceLog
    ) -> StubResponse:
        failure = _failure(fault)
        if failure is not None:
            return failure
        committed = lines[: max(0, fault.n)] if fault.kind == "partial" else lines
        new_rows = self._commit(table, committed, log)
        count = new_rows if fault.kind == "new_only" else len(committed)
        reply = "OK" if fault.kind == "bare_ok" else f"OK:{count}"
        return StubResponse(
            text=reply,
            drop=fault.kind == "drop_after",
            delay=fault.seconds if fault.kind == "delay" else 0.0,
        )

    def _commit(self, table: str, lines: list[str], log: DeviceLog) -> int:
        """Stores the lines; returns how many were new. Every line counts as processed,
        duplicates and rejected (malformed) lines included."""
        commit = self._commit_attlog if table == "ATTLOG" else self._commit_operlog
        return sum(commit(line, log) for line in lines)

    @staticmethod
    def _commit_attlog(line: str, log: DeviceLog) -> int:
        log.attlog_lines.append(line)
        try:
            record = p.parse_attlog_line(line)
        except ValueError:
            log.rejected.append(line)
            return 0
        if record.key in log.punches:
            return 0
        log.punches[record.key] = record
        return 1

    @staticmethod
    def _commit_operlog(line: str, log: DeviceLog) -> int:
        if line.startswith("OPLOG "):
            try:
                record = p.parse_oplog_line(line)
            except ValueError:
                log.rejected.append(line)
                return 0
            log.oplog_lines.append(line)
            if record in log.oplog:
                return 0
            log.oplog.append(record)
            return 1
        if line.startswith("USER "):
            fields = p.parse_fields(line[len("USER ") :])
            log.user_lines.append(line)
            if not fields.get("PIN"):
                log.rejected.append(line)
                return 0
            log.users[fields["PIN"]] = p.User.from_fields(fields)
            return 1
        if line.startswith(TEMPLATE_PREFIXES):
            log.templates_dropped += 1  # privacy first: templates are never stored
            return 0
        log.rejected.append(line)
        return 0

    def _getrequest(self, request: RequestRecord, log: DeviceLog) -> StubResponse:
        log.polls += 1
        if "INFO" in request.query:
            log.info.append(request.query["INFO"])
        if not log.queue:
            return StubResponse(text="OK")
        count = min(len(log.queue), self.max_commands_per_poll)
        lines = [log.queue.popleft() for _ in range(count)]
        log.sent_commands += lines
        return StubResponse(text="\n".join(lines) + "\n")


def _failure(fault: Fault) -> StubResponse | None:
    """The reply for a fault that stores nothing, or None."""
    if fault.kind == "error":
        return StubResponse(text=fault.text)
    if fault.kind == "http_500":
        return StubResponse(500, "Internal Server Error")
    if fault.kind == "drop_before":
        return StubResponse(drop=True)
    return None


def _endpoint(path: str) -> str | None:
    parts = path.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "iclock":
        return None
    name = parts[-1]
    return name.removesuffix(".aspx")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quietly note handler errors (e.g. replying to a device that gave up and closed)."""
        self.stub.note_error(repr(sys.exc_info()[1]))

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], stub: StubServer
    ) -> None:
        self.stub = stub
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # needed for `100 Continue`
    server_version = "zkemu-stub/1"
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        return

    def handle_expect_100(self) -> bool:
        self.server.stub.note_expect()
        if self.server.stub.answer_continue:
            return super().handle_expect_100()
        return True  # read the body anyway, without an interim response

    def _serve(self, method: str) -> None:
        stub = self.server.stub
        self.close_connection = True
        length = int(self.headers.get("Content-Length") or 0)
        if length > stub.max_body:
            self._write(StubResponse(413, "body too large"))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = stub.handle(RequestRecord(method, parts.path, query, headers, body))
        if response.delay:
            time.sleep(response.delay)
        if not response.drop:
            self._write(response)

    def _write(self, response: StubResponse) -> None:
        data = response.text.encode("utf-8")
        self.send_response_only(response.status)
        if self.server.stub.send_date:
            self.send_header("Date", p.http_date(self.server.stub.now()))
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
