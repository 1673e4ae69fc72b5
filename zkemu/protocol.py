"""Wire formats of ZKTeco's attendance PUSH protocol ("ADMS" / iclock), written from the
domain note devices.md (the vendor's PUSH SDK V2.4.x as summarised there). Pure functions, no
I/O: both the emulated device and the reference stub server build and parse messages here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime

USER_AGENT = "iClock Proxy/1.09"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
OPTIONS_HEADER = "GET OPTION FROM:"
DEFAULT_PUSH_VERSION = "2.2.14"  # what a device assumes when the server sends no PushProtVer

# Operation codes (spec appendix 3) that Tepat treats as signals.
OP_POWER_ON = 0
OP_ALARM = 3
OP_ENTER_MENU = 4
OP_CHANGE_SETTING = 5
OP_DELETE_USER = 9
OP_SET_TIME = 21
OP_FACTORY_RESET = 22
OP_DELETE_LOGS = 23
OP_NEW_USER = 30

# Command return codes (spec appendix 1).
RET_OK = 0
RET_PARAM_ERROR = -1
RET_RW_ERROR = -3
RET_PIN_NOT_FOUND = -10
RET_NOT_SUPPORTED = -1002
RET_TIMEOUT = -1003
RET_TABLE_NOT_SUPPORTED = -1004

# Names in a TransFlag bit string, by position. The spec shows the 12-bit form
# ("1111000000...") without naming each bit here; this order is an assumption (see README).
TRANS_FLAG_BITS = (
    "AttLog",
    "OpLog",
    "AttPhoto",
    "EnrollUser",
    "ChgUser",
    "EnrollFP",
    "ChgFP",
    "FPImag",
    "FACE",
    "UserPic",
    "WorkCode",
    "BioPhoto",
)
ALL_TRANS_FLAGS = frozenset(TRANS_FLAG_BITS)

_CMD_ID = re.compile(r"[A-Za-z0-9]{1,16}")
_COMMAND_LINE = re.compile(r"C:([^:]*):(.*)", re.DOTALL)
_ACK = re.compile(r"OK(?:\s*:\s*(-?\d+))?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

PunchKey = tuple[str, str, int, int]
"""(PIN, device-local time as sent, status, verify): with the SN, the server's dedupe key."""


def format_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), TIME_FORMAT)


def has_control_chars(text: str) -> bool:
    return _CONTROL.search(text) is not None


def is_valid_cmd_id(cmd_id: str) -> bool:
    """CmdID: letters and digits, at most 16 characters."""
    return _CMD_ID.fullmatch(cmd_id) is not None


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class AttRecord:
    """One punch. `time` is device-local wall time with no zone, as the device stores it."""

    pin: str
    time: datetime
    status: int = 0
    verify: int = 1
    workcode: str = "0"
    reserved1: str = "0"
    reserved2: str = "0"
    mask_flag: str = "0"
    temperature: str = "36.5"
    conv_temperature: str = "97.7"

    @property
    def key(self) -> PunchKey:
        return (self.pin, format_time(self.time), self.status, self.verify)

    def to_line(self, fields: int = 7) -> str:
        """7 fields (PIN, Time, Status, Verify, Workcode, Reserved1, Reserved2); V3.9+ firmware
        appends MaskFlag, Temperature, ConvTemperature (10 fields)."""
        values = [
            self.pin,
            format_time(self.time),
            str(self.status),
            str(self.verify),
            self.workcode,
            self.reserved1,
            self.reserved2,
        ]
        if fields >= 10:
            values += [self.mask_flag, self.temperature, self.conv_temperature]
        return "\t".join(values)


def parse_attlog_line(line: str) -> AttRecord:
    """Positional, TAB-separated; extra fields ignored. Raises ValueError on a bad line."""
    if has_control_chars(line.replace("\t", "")):
        raise ValueError("control character in ATTLOG line")
    fields = line.split("\t")
    if len(fields) < 4:
        raise ValueError(f"ATTLOG line has {len(fields)} fields, need at least 4")
    pin = fields[0].strip()
    if not pin or " " in pin:
        raise ValueError("bad PIN")
    extra = [*fields[4:7], *["0"] * (3 - len(fields[4:7]))]
    return AttRecord(
        pin=pin,
        time=parse_time(fields[1]),
        status=int(fields[2]),
        verify=int(fields[3]),
        workcode=extra[0],
        reserved1=extra[1],
        reserved2=extra[2],
    )


@dataclass(frozen=True)
class OpRecord:
    """An OPLOG entry: OpType, Operator, OpTime, then three values and a reserved field."""

    op_type: int
    operator: str
    time: datetime
    value1: str = "0"
    value2: str = "0"
    value3: str = "0"
    reserved: str = "0"

    def to_line(self) -> str:
        values = [self.operator, format_time(self.time), self.value1, self.value2, self.value3]
        return f"OPLOG {self.op_type}\t" + "\t".join([*values, self.reserved])


def parse_oplog_line(line: str) -> OpRecord:
    if not line.startswith("OPLOG "):
        raise ValueError("not an OPLOG line")
    fields = line[len("OPLOG ") :].split("\t")
    if len(fields) < 3:
        raise ValueError("OPLOG line too short")
    values = [*fields[3:7], *["0"] * (4 - len(fields[3:7]))]
    return OpRecord(int(fields[0]), fields[1], parse_time(fields[2]), *values)


@dataclass
class User:
    """A row of the device's user table."""

    pin: str
    name: str = ""
    privilege: int = 0
    password: str = ""
    card: str = ""
    group: str = "1"
    timezones: str = "0000000000000000"
    verify: str = "-1"

    def to_line(self) -> str:
        return "USER " + format_fields(
            [
                ("PIN", self.pin),
                ("Name", self.name),
                ("Pri", str(self.privilege)),
                ("Passwd", self.password),
                ("Card", self.card),
                ("Grp", self.group),
                ("TZ", self.timezones),
                ("Verify", self.verify),
                ("ViceCard", ""),
            ]
        )

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> User:
        """From `PIN=..\\tName=..\\tPri=..` (a USER line or a DATA UPDATE USERINFO command)."""
        privilege = fields.get("Pri", fields.get("Privilege", "0")) or "0"
        return cls(
            pin=fields["PIN"],
            name=fields.get("Name", ""),
            privilege=int(privilege),
            password=fields.get("Passwd", fields.get("Password", "")),
            card=fields.get("Card", ""),
            group=fields.get("Grp", "1") or "1",
            timezones=fields.get("TZ", "0000000000000000"),
            verify=fields.get("Verify", "-1"),
        )


def fingerprint_line(pin: str, fid: int = 6, template: str = "TUlDUk9TRUNUT1JfREVNTw==") -> str:
    """A biometric template line (FP), as some firmware pushes with OPERLOG."""
    pairs = [("PIN", pin), ("FID", str(fid)), ("Size", str(len(template)))]
    return "FP " + format_fields([*pairs, ("Valid", "1"), ("TMP", template)])


def format_fields(pairs: Iterable[tuple[str, str]]) -> str:
    return "\t".join(f"{key}={value}" for key, value in pairs)


def parse_fields(text: str) -> dict[str, str]:
    """`K=V\\tK=V`; a segment without `=` is kept under its own text with an empty value."""
    fields: dict[str, str] = {}
    for segment in text.split("\t"):
        if not segment:
            continue
        key, _, value = segment.partition("=")
        fields[key.strip()] = value
    return fields


# ---------------------------------------------------------------------------------------------
# Handshake options


def format_options_block(sn: str, options: Iterable[tuple[str, str]]) -> str:
    return "\n".join([f"{OPTIONS_HEADER} {sn}", *(f"{k}={v}" for k, v in options)])


def parse_options_block(text: str) -> tuple[str | None, dict[str, str]]:
    """Returns (SN named in the `GET OPTION FROM:` header or None if absent, key=value map)."""
    lines = [line.strip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    header_sn: str | None = None
    if lines and lines[0].startswith(OPTIONS_HEADER):
        header_sn = lines.pop(0)[len(OPTIONS_HEADER) :].strip()
    options: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            options[key.strip()] = value.strip(" \r")
    return header_sn, options


def parse_trans_flag(value: str) -> frozenset[str]:
    """Either a bit string (`1111000000`) or `TransData AttLog<HT>OpLog...` (a literal `\\t`
    is tolerated as a separator too)."""
    value = value.strip()
    if value and set(value) <= {"0", "1"}:
        return frozenset(
            name for bit, name in zip(value, TRANS_FLAG_BITS, strict=False) if bit == "1"
        )
    names = re.split(r"(?:\\t|\s)+", value)
    return frozenset(name for name in names if name and name != "TransData")


def parse_timezone(value: str) -> timedelta:
    """Integer hours if -12..12, otherwise minutes (e.g. 330)."""
    number = int(value.strip())
    return timedelta(hours=number) if -12 <= number <= 12 else timedelta(minutes=number)


def version_tuple(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)
    return tuple(int(part) for part in parts) or (0,)


def lower_version(a: str, b: str) -> str:
    return a if version_tuple(a) <= version_tuple(b) else b


_STAMP_KEYS = {
    "ATTLOG": ("ATTLOGStamp", "Stamp"),
    "OPERLOG": ("OPERLOGStamp", "OpStamp"),
    "ATTPHOTO": ("ATTPHOTOStamp", "PhotoStamp"),
}


@dataclass(frozen=True)
class ServerOptions:
    """The options a handshake reply sets on the device (spec §6)."""

    stamps: Mapping[str, str] = field(default_factory=dict)  # table -> raw value ("9999", "0")
    error_delay: float = 30.0
    delay: float = 10.0
    trans_times: tuple[str, ...] = ()
    trans_interval: float = 1.0  # minutes
    trans_flags: frozenset[str] = ALL_TRANS_FLAGS
    timezone: timedelta = timedelta(hours=7)
    realtime: bool = True
    encrypt: str = "None"
    server_ver: str | None = None
    push_prot_ver: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    def merged(self, options: Mapping[str, str]) -> tuple[ServerOptions, list[str]]:
        """A copy updated from a handshake's key=value map, plus notes on unparsable values."""
        notes: list[str] = []
        values = dict(vars(self))
        values["raw"] = {**self.raw, **options}
        values["stamps"] = {**self.stamps, **stamps_from(options)}
        for key, (attr, parse) in _OPTION_PARSERS.items():
            if key in options:
                try:
                    values[attr] = parse(options[key])
                except (ValueError, TypeError):
                    notes.append(f"unparsable option {key}={options[key]!r}")
        return ServerOptions(**values), notes


def stamps_from(options: Mapping[str, str]) -> dict[str, str]:
    stamps: dict[str, str] = {}
    for table, keys in _STAMP_KEYS.items():
        for key in keys:
            if key in options:
                stamps[table] = options[key].strip()
                break
    return stamps


def _positive_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(value)
    return number


def _flag(value: str) -> bool:
    return value.strip() not in ("0", "", "false", "False")


_OPTION_PARSERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "ErrorDelay": ("error_delay", _positive_float),
    "Delay": ("delay", _positive_float),
    "TransTimes": ("trans_times", lambda v: tuple(t for t in v.split(";") if t)),
    "TransInterval": ("trans_interval", _positive_float),
    "TransFlag": ("trans_flags", parse_trans_flag),
    "TimeZone": ("timezone", parse_timezone),
    "Realtime": ("realtime", _flag),
    "Encrypt": ("encrypt", str),
    "ServerVer": ("server_ver", str),
    "PushProtVer": ("push_prot_ver", str),
}


# ---------------------------------------------------------------------------------------------
# Acknowledgements, commands, results


@dataclass(frozen=True)
class Ack:
    """A server's reply body to an upload: `OK` (count None) or `OK:n`, else not ok."""

    ok: bool
    count: int | None
    text: str


def parse_ack(body: str) -> Ack:
    text = body.strip()
    match = _ACK.fullmatch(text)
    if match is None:
        return Ack(False, None, text)
    count = int(match.group(1)) if match.group(1) is not None else None
    return Ack(True, count, text)


@dataclass(frozen=True)
class Command:
    """`C:<id>:<text>` from a getrequest reply."""

    cmd_id: str
    text: str

    def to_line(self) -> str:
        return f"C:{self.cmd_id}:{self.text}"


def parse_command_body(body: str) -> tuple[list[Command], list[str]]:
    """Commands in a getrequest reply, and the non-empty lines that are not commands (a bare
    command without the `C:<id>:` prefix is silently dropped by devices)."""
    commands: list[Command] = []
    dropped: list[str] = []
    for raw in body.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip() or line.strip() == "OK":
            continue
        match = _COMMAND_LINE.fullmatch(line)
        if match is None:
            dropped.append(line)
        else:
            commands.append(Command(match.group(1), match.group(2)))
    return commands, dropped


def split_command(text: str) -> tuple[list[str], str]:
    """Verb words and the argument text: words run until the first token containing `=`.
    `DATA UPDATE USERINFO PIN=1<HT>Name=A B` -> ([DATA, UPDATE, USERINFO], "PIN=1<HT>Name=A B").
    """
    tokens = text.split(" ")
    for index, token in enumerate(tokens):
        if "=" in token:
            return [t for t in tokens[:index] if t], " ".join(tokens[index:])
    return [t for t in tokens if t], ""


@dataclass
class CommandResult:
    """One result posted to /iclock/devicecmd: the `ID=..&Return=..&CMD=..` line, its extra
    `&key=value` pairs, and any continuation lines (INFO and GET OPTION are multi-line)."""

    cmd_id: str
    ret: int
    cmd: str
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        head = f"ID={self.cmd_id}&Return={self.ret}&CMD={self.cmd}"
        head += "".join(f"&{key}={value}" for key, value in self.fields.items())
        return "\n".join([head, *self.lines])


def parse_command_results(body: str) -> list[CommandResult]:
    results: list[CommandResult] = []
    for raw in body.split("\n"):
        line = raw.rstrip("\r\x00")
        if not line.strip():
            continue
        if line.startswith("ID="):
            results.append(_parse_result_head(line))
        elif results:
            results[-1].lines.append(line)
    return results


def _parse_result_head(line: str) -> CommandResult:
    pairs = [part.partition("=") for part in line.split("&")]
    values = {key: value for key, _, value in pairs}
    try:
        ret = int(values.pop("Return", "0") or "0")
    except ValueError:
        ret = RET_PARAM_ERROR
    cmd_id = values.pop("ID", "")
    cmd = values.pop("CMD", "")
    return CommandResult(cmd_id, ret, cmd, values)


# ---------------------------------------------------------------------------------------------
# Device info


def format_device_options(pairs: Sequence[tuple[str, str]]) -> str:
    """Body of `POST cdata?table=options`: comma-separated key=value pairs (spec §9)."""
    return ",".join(f"{key}={value}" for key, value in pairs)


def parse_device_options(body: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in body.strip().split(","):
        key, sep, value = part.partition("=")
        if sep:
            options[key.strip().lstrip("~")] = value.strip()
    return options


def format_info_param(values: Sequence[object]) -> str:
    """getrequest's INFO=: firmware, users, FPs, attendance records, IP, FP algorithm, face
    algorithm, faces needed, face count, feature bits."""
    return ",".join(str(value) for value in values)


# ---------------------------------------------------------------------------------------------
# HTTP dates


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """An aware UTC datetime, or None if the header is missing or unparsable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
