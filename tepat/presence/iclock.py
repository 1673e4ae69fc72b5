"""ZKTeco's attendance PUSH protocol ("ADMS" / iclock), the server's side of the wire.

Parses what a fingerprint or face machine sends and formats what its firmware expects, byte
for byte (the domain note devices.md, from the vendor's PUSH SDK V2.4.x). Plain functions,
no Django and no I/O: the endpoints in ``iclock_views`` and the USB import call them, and
the fuzz tests feed them any bytes.

Nothing here decides what a punch means for attendance; that is ``punches``.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_BODY = 10 * 1024 * 1024  # s0x90/zkteco-adms's default cap; a week offline is ~2 MB
MAX_PIN = 24  # push 2.4 firmware allows 24 characters; older ones 9
MAX_COMMANDS_PER_POLL = 50

_PIN = re.compile(rf"[A-Za-z0-9]{{1,{MAX_PIN}}}")
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT = re.compile(r"-?\d{1,6}")
# A punch's status and verify codes are stored as smallint; its time is one ZKTeco firmware
# can hold (seconds from 2000). A line outside either is kept as unreadable, never a failed
# save (which the device would resend for ever).
CODE_RANGE = range(-(2**15), 2**15)
YEARS = range(2000, 2100)

# Punch status (the "mode" key on the machine) -> the ledger's kind. Firmware differs, so a
# machine can carry its own table (Machine.status_map); this is the common one (devices.md §4).
DEFAULT_STATUS_KINDS: dict[int, str] = {0: "in", 1: "out", 2: "out", 3: "in", 4: "in", 5: "out"}

# Operation codes that are tamper signals (spec appendix 3).
OP_SET_TIME = 21
OP_FACTORY_RESET = 22
OP_DELETE_LOGS = 23
TAMPER_OPS = frozenset({OP_SET_TIME, OP_FACTORY_RESET, OP_DELETE_LOGS})

TEMPLATE_PREFIXES = ("FP ", "FACE ", "BIODATA ", "BIOPHOTO ", "USERPIC ", "FVEIN ")


def serial_valid(serial: str) -> bool:
    return _SERIAL.fullmatch(serial) is not None


def printable(text: str, limit: int = 200) -> str:
    """Text safe to store and show: control characters (a NUL cannot even be stored in
    PostgreSQL text or JSON) written as ``\\xNN``; TAB kept."""
    return _CONTROL.sub(_escape, text)[:limit]


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return char if char == "\t" else f"\\x{ord(char):02x}"


def pin_valid(pin: str) -> bool:
    return _PIN.fullmatch(pin) is not None


def body_text(body: bytes, encoding: str = "") -> tuple[str, str]:
    """The body as text and the encoding that read it. Names are UTF-8 on most firmware and
    GB2312 on Chinese firmware (spec §2.1): UTF-8 first, then GB18030 (a superset of GB2312),
    never an exception on bad bytes."""
    if encoding and encoding != "utf-8":
        return body.decode(encoding, errors="replace"), encoding
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace"), "gb18030"


def body_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their 1-based numbers; CR and a trailing NUL dropped."""
    lines = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r\x00")
        if line.strip():
            lines.append((number, line))
    return lines


def parse_time(text: str) -> datetime:
    moment = datetime.strptime(text.strip(), TIME_FORMAT)
    if moment.year not in YEARS:
        raise ValueError(f"year {moment.year} outside {YEARS.start}-{YEARS.stop - 1}")
    return moment


# --- ATTLOG --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Punch:
    """One ATTLOG record. ``local_time`` is the machine's wall clock, with no zone."""

    line_no: int
    pin: str
    local_time: datetime
    status: int
    verify: int
    workcode: str = "0"

    @property
    def time_text(self) -> str:
        return self.local_time.strftime(TIME_FORMAT)

    def identity(self, serial: str) -> str:
        """The idempotency key's text (serial, PIN, time, status, verify), devices.md §8."""
        return f"{serial}\t{self.pin}\t{self.time_text}\t{self.status}\t{self.verify}"


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read: kept with the reason, shown to the operator."""

    line_no: int
    text: str
    reason: str


def parse_attlog_line(line_no: int, line: str) -> Punch | BadLine:
    """Positional and TAB-separated: PIN, Time, Status, Verify, Workcode, Reserved1,
    Reserved2; V3.9+ firmware adds MaskFlag, Temperature, ConvTemperature (ignored)."""
    shown = printable(line)
    if _CONTROL.search(line.replace("\t", "")):
        return BadLine(line_no, shown, "control character")
    fields = [part.strip() for part in line.split("\t")]
    if len(fields) < 4:
        return BadLine(line_no, shown, f"{len(fields)} fields, at least 4 needed")
    pin, when, status, verify = fields[:4]
    if not _PIN.fullmatch(pin):
        return BadLine(line_no, shown, "bad PIN")
    try:
        local_time = parse_time(when)
    except ValueError:
        return BadLine(line_no, shown, "bad time")
    if not (_INT.fullmatch(status) and _INT.fullmatch(verify)):
        return BadLine(line_no, shown, "bad status or verify code")
    if int(status) not in CODE_RANGE or int(verify) not in CODE_RANGE:
        return BadLine(line_no, shown, "status or verify code out of range")
    workcode = fields[4][:24] if len(fields) > 4 else "0"
    return Punch(line_no, pin, local_time, int(status), int(verify), workcode)


def parse_attlog(text: str) -> tuple[list[Punch], list[BadLine]]:
    punches: list[Punch] = []
    bad: list[BadLine] = []
    for line_no, line in body_lines(text):
        parsed = parse_attlog_line(line_no, line)
        (punches if isinstance(parsed, Punch) else bad).append(parsed)  # type: ignore[arg-type]
    return punches, bad


# --- OPERLOG / USERINFO --------------------------------------------------------------------


@dataclass(frozen=True)
class OpLog:
    line_no: int
    op_type: int
    operator: str
    time_text: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserRow:
    line_no: int
    pin: str
    name: str
    privilege: str = "0"
    card: str = ""


@dataclass
class Operlog:
    oplogs: list[OpLog] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)
    templates: int = 0  # biometric rows: counted, never stored (devices.md §5)
    other: int = 0  # rows of kinds Tepat has no use for (ATTPHOTO headers, WORKCODE...)
    bad: list[BadLine] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.oplogs) + len(self.users) + self.templates + self.other + len(self.bad)


def without_templates(body: bytes) -> bytes:
    """The body with biometric template rows cut out, byte for byte otherwise: Tepat never
    keeps fingerprints or faces (devices.md §5), not even in the raw copy of an upload."""
    prefixes = tuple(prefix.encode() for prefix in TEMPLATE_PREFIXES)
    return b"\n".join(line for line in body.split(b"\n") if not line.startswith(prefixes))


def parse_fields(text: str) -> dict[str, str]:
    """``K=V<TAB>K=V``."""
    fields: dict[str, str] = {}
    for segment in text.split("\t"):
        key, sep, value = segment.partition("=")
        if sep and key.strip():
            fields[key.strip()] = value
    return fields


def parse_operlog(text: str) -> Operlog:
    batch = Operlog()
    for line_no, line in body_lines(text):
        shown = printable(line)
        if line.startswith("OPLOG "):
            parts = line[len("OPLOG ") :].split("\t")
            if len(parts) < 3 or not _INT.fullmatch(parts[0].strip()):
                batch.bad.append(BadLine(line_no, shown, "bad OPLOG line"))
                continue
            batch.oplogs.append(
                OpLog(
                    line_no,
                    int(parts[0]),
                    printable(parts[1], 24),
                    printable(parts[2], 19),
                    tuple(printable(part, 40) for part in parts[3:7]),
                )
            )
        elif line.startswith("USER "):
            fields = parse_fields(line[len("USER ") :])
            pin = fields.get("PIN", "").strip()
            if not _PIN.fullmatch(pin):
                batch.bad.append(BadLine(line_no, shown, "bad PIN"))
                continue
            name = _CONTROL.sub("", fields.get("Name", ""))[:100]
            batch.users.append(
                UserRow(
                    line_no,
                    pin,
                    name,
                    printable(fields.get("Pri", "0"), 4),
                    printable(fields.get("Card", ""), 24),
                )
            )
        elif line.startswith(TEMPLATE_PREFIXES):
            batch.templates += 1
        elif re.match(r"[A-Z]{2,12} ", line):
            batch.other += 1
        else:
            batch.bad.append(BadLine(line_no, shown, "unknown row"))
    return batch


# --- Device options and INFO ---------------------------------------------------------------


def parse_device_options(text: str) -> dict[str, str]:
    """``table=options`` body: ``~DeviceName=..,MAC=..,FirmVer=..`` (spec §9). Some firmware
    separates with LF instead of commas; both are read."""
    options: dict[str, str] = {}
    for part in re.split(r"[,\n]", text):
        key, sep, value = part.partition("=")
        key = key.strip().lstrip("~")
        if sep and key and not _CONTROL.search(key):
            options[key[:40]] = _CONTROL.sub("", value.strip())[:120]
    return options


INFO_FIELDS = (
    "firmware", "users", "fingerprints", "punches", "ip", "fp_algorithm", "face_algorithm",
    "faces_needed", "faces", "features",
)  # fmt: skip


def parse_info(value: str) -> dict[str, str]:
    """getrequest's ``INFO=`` (spec §10): firmware, users, FPs, punches, IP, ..."""
    parts = [_CONTROL.sub("", part).strip()[:60] for part in value.split(",")]
    return dict(zip(INFO_FIELDS, parts, strict=False))


# --- Handshake -----------------------------------------------------------------------------

OPTIONS_HEADER = "GET OPTION FROM:"
PUSH_VERSION = "2.4.1"


def options_block(
    serial: str,
    *,
    timezone_hours: int,
    attlog_stamp: str = "9999",
    operlog_stamp: str = "9999",
    delay_s: int = 10,
    error_delay_s: int = 30,
) -> str:
    """The handshake reply (spec §6). Stamp 9999 lets the device keep its own cursor (new
    firmware ignores numeric stamps anyway); 0 asks for a full re-upload. Realtime=1: each
    punch is sent at once, so the server sees the machine's clock live."""
    lines = [
        f"{OPTIONS_HEADER} {serial}",
        f"ATTLOGStamp={attlog_stamp}",
        f"OPERLOGStamp={operlog_stamp}",
        "ATTPHOTOStamp=None",
        f"ErrorDelay={error_delay_s}",
        f"Delay={delay_s}",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=TransData AttLog\tOpLog\tEnrollUser\tChgUser",
        f"TimeZone={timezone_hours}",
        "Realtime=1",
        "Encrypt=None",
        f"ServerVer={PUSH_VERSION}",
        f"PushProtVer={PUSH_VERSION}",
    ]
    return "\n".join(lines)


def upload_ack(lines: int) -> str:
    """``OK:n`` where n counts every line received, duplicates and unreadable ones included:
    a strict device resends a whole batch on any smaller n (zkemu README, ambiguity 1)."""
    return f"OK:{lines}"


# --- Commands ------------------------------------------------------------------------------


class CommandRefused(ValueError):
    """A command Tepat must never send, or one whose values would break the line format."""


FORBIDDEN_VERBS = frozenset({"SHELL", "PUTFILE", "GETFILE", "UPGRADE", "CLEAR"})
SETTABLE_OPTIONS = frozenset({"Delay", "ErrorDelay", "TransInterval", "TransTimes", "Realtime"})
# Whole command heads Tepat may send; anything else is refused before it is queued.
ALLOWED_HEADS: dict[tuple[str, ...], str] = {
    ("DATA", "UPDATE", "USERINFO"): "user_update",
    ("DATA", "DELETE", "USERINFO"): "user_delete",
    ("DATA", "QUERY", "USERINFO"): "user_query",
    ("DATA", "QUERY", "ATTLOG"): "attlog_query",
    ("VERIFY", "SUM", "ATTLOG"): "verify_sum",
    ("CHECK",): "check",
    ("LOG",): "log",
    ("INFO",): "info",
    ("REBOOT",): "reboot",
    ("RELOAD", "OPTIONS"): "reload_options",
    ("SET", "OPTION"): "set_option",
}
ADMIN_ONLY = frozenset({"reboot", "set_option", "reload_options"})


def _clean(name: str, value: str, limit: int) -> str:
    if _CONTROL.search(value):
        raise CommandRefused(f"{name} contains a control character")
    if len(value) > limit:
        raise CommandRefused(f"{name} is longer than {limit} characters")
    return value


def command_kind(text: str) -> str:
    """The allow-listed kind of a command text, or CommandRefused. The last line of defence:
    every queued command passes here, whoever built it."""
    if "\n" in text or "\r" in text or "\x00" in text:
        raise CommandRefused("a command is one line")
    words = text.split(" ")
    verb = words[0].upper() if words else ""
    if verb in FORBIDDEN_VERBS:
        raise CommandRefused(f"{verb} is never sent to a machine")
    for head, kind in ALLOWED_HEADS.items():
        if tuple(w.upper() for w in words[: len(head)]) == head:
            rest = " ".join(words[len(head) :])
            if _CONTROL.search(rest.replace("\t", "")):
                raise CommandRefused("control character in a command value")
            if kind == "set_option":
                key = rest.partition("=")[0]
                if key not in SETTABLE_OPTIONS:
                    raise CommandRefused(f"option {key!r} may not be set remotely")
            if len(head) == 1 and rest:
                raise CommandRefused(f"{head[0]} takes no arguments")
            return kind
    raise CommandRefused(f"{verb or 'empty command'} is not on the allow-list")


def user_update_command(pin: str, name: str, *, card: str = "", privilege: int = 0) -> str:
    if not _PIN.fullmatch(pin):
        raise CommandRefused("bad PIN")
    fields = [
        ("PIN", pin),
        ("Name", _clean("Name", name, 24)),
        ("Pri", str(privilege)),
        ("Passwd", ""),
        ("Card", _clean("Card", card, 24)),
        ("Grp", "1"),
        ("TZ", "0000000000000000"),
        ("Verify", "-1"),
    ]
    return "DATA UPDATE USERINFO " + "\t".join(f"{k}={v}" for k, v in fields)


def user_delete_command(pin: str) -> str:
    if not _PIN.fullmatch(pin):
        raise CommandRefused("bad PIN")
    return f"DATA DELETE USERINFO PIN={pin}"


def _window(start: datetime, end: datetime) -> str:
    return f"StartTime={start.strftime(TIME_FORMAT)}\tEndTime={end.strftime(TIME_FORMAT)}"


def attlog_query_command(start: datetime, end: datetime) -> str:
    return f"DATA QUERY ATTLOG {_window(start, end)}"


def verify_sum_command(start: datetime, end: datetime) -> str:
    return f"VERIFY SUM ATTLOG {_window(start, end)}"


def command_lines(commands: Iterable[tuple[str, str]]) -> str:
    """getrequest reply: ``C:<id>:<command>`` per line (a bare command is discarded by the
    firmware), or ``OK`` when nothing is pending."""
    lines = [f"C:{cmd_id}:{text}" for cmd_id, text in commands]
    return "".join(f"{line}\n" for line in lines) if lines else "OK"


@dataclass
class CommandResult:
    cmd_id: str
    ret: int | None
    cmd: str
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _result_head(line: str) -> CommandResult:
    values = {}
    for part in line.split("&"):
        key, _, value = part.partition("=")
        values[printable(key.strip(), 40)] = printable(value.strip())
    ret_text = values.pop("Return", "")
    ret = int(ret_text) if _INT.fullmatch(ret_text) else None
    return CommandResult(values.pop("ID", "")[:16], ret, values.pop("CMD", "")[:32], values)


def parse_command_results(text: str) -> list[CommandResult]:
    """devicecmd body (spec §13): one ``ID=..&Return=..&CMD=..`` line per result, batched;
    INFO-like replies continue with ``key=value`` lines; the Shell form spreads ID, Return
    and CMD over separate lines."""
    results: list[CommandResult] = []
    for _, line in body_lines(text):
        if line.startswith("ID=") and "&" in line:
            results.append(_result_head(line))
        elif line.startswith("ID="):
            results.append(CommandResult(printable(line[3:].strip(), 16), None, ""))
        elif results and line.startswith("Return=") and results[-1].ret is None:
            value = line[len("Return=") :].strip()
            results[-1].ret = int(value) if _INT.fullmatch(value) else None
        elif results and line.startswith("CMD=") and not results[-1].cmd:
            results[-1].cmd = printable(line[4:].strip(), 32)
        elif results:
            results[-1].lines.append(printable(line, 500))
    return results


def status_kind(status: int, table: Mapping[str, str] | None = None) -> str:
    """The ledger kind of a punch status; an unknown status counts as arrival (the verdict
    takes the first arrival and the last departure, so a stray code cannot erase a day)."""
    if table:
        kind = table.get(str(status))
        if kind in ("in", "out"):
            return kind
    return DEFAULT_STATUS_KINDS.get(status, "in")


def window_of(fields: Mapping[str, str]) -> tuple[str, str] | None:
    """StartTime/EndTime of a VERIFY SUM result, as the device's local time text."""
    try:
        start, end = parse_time(fields["StartTime"]), parse_time(fields["EndTime"])
    except (KeyError, ValueError):
        return None
    return start.strftime(TIME_FORMAT), end.strftime(TIME_FORMAT)
