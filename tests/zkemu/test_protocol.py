"""Wire formats, checked against the examples in the domain note devices.md."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkemu import protocol as p

SPEC_OPTIONS = (
    "GET OPTION FROM: 0316144680030\n"
    "ATTLOGStamp=9999\nOPERLOGStamp=9999\nATTPHOTOStamp=None\nErrorDelay=30\nDelay=10\n"
    "TransTimes=00:00;14:05\nTransInterval=1\n"
    "TransFlag=TransData AttLog\tOpLog\tEnrollUser\tChgUser\n"
    "TimeZone=7\nRealtime=1\nEncrypt=None\nServerVer=2.4.1\nPushProtVer=2.4.1\n"
)


def test_the_spec_punch_body_is_seven_tab_separated_fields() -> None:
    first = p.AttRecord("1452", datetime(2025, 8, 5, 7, 16, 28), 0, 1)
    second = p.AttRecord("8965", datetime(2025, 8, 5, 7, 16, 36), 0, 15)

    body = "\n".join([first.to_line(), second.to_line()])

    assert (
        body
        == "1452\t2025-08-05 07:16:28\t0\t1\t0\t0\t0\n8965\t2025-08-05 07:16:36\t0\t15\t0\t0\t0"
    )
    assert len(body) == 70  # the spec example's Content-Length


def test_v39_firmware_appends_three_fields_that_a_parser_ignores() -> None:
    record = p.AttRecord("7", datetime(2025, 8, 5, 7, 0, 0), 1, 15)

    line = record.to_line(10)

    assert line.count("\t") == 9
    assert p.parse_attlog_line(line) == p.parse_attlog_line(record.to_line(7)) == record


@pytest.mark.parametrize(
    "line",
    ["1\t2025-08-05 07:00:00\t0", "1\tyesterday\t0\t1", "1\x00\t2025-08-05 07:00:00\t0\t1", ""],
)
def test_a_bad_attlog_line_is_rejected(line: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        p.parse_attlog_line(line)


@given(
    pin=st.text(alphabet="0123456789ABCDEFGHabc", min_size=1, max_size=9),
    offset=st.integers(0, 10**8),
    status=st.integers(0, 5),
    verify=st.sampled_from([0, 1, 2, 4, 15, 25]),
    fields=st.sampled_from([7, 10]),
)
def test_attlog_lines_round_trip(
    pin: str, offset: int, status: int, verify: int, fields: int
) -> None:
    record = p.AttRecord(pin, datetime(2000, 1, 1) + timedelta(seconds=offset), status, verify)

    assert p.parse_attlog_line(record.to_line(fields)).key == record.key


def test_the_spec_options_block_sets_every_option() -> None:
    header_sn, raw = p.parse_options_block(SPEC_OPTIONS)
    options, notes = p.ServerOptions().merged(raw)

    assert header_sn == "0316144680030"
    assert notes == []
    assert options.stamps == {"ATTLOG": "9999", "OPERLOG": "9999", "ATTPHOTO": "None"}
    assert (options.error_delay, options.delay, options.trans_interval) == (30, 10, 1)
    assert options.trans_times == ("00:00", "14:05")
    assert options.trans_flags == {"AttLog", "OpLog", "EnrollUser", "ChgUser"}
    assert options.timezone == timedelta(hours=7)
    assert options.realtime is True
    assert (options.server_ver, options.push_prot_ver) == ("2.4.1", "2.4.1")


def test_older_stamp_spellings_are_understood() -> None:
    assert p.stamps_from({"Stamp": "12", "OpStamp": "0", "PhotoStamp": "None"}) == {
        "ATTLOG": "12",
        "OPERLOG": "0",
        "ATTPHOTO": "None",
    }


@pytest.mark.parametrize(
    ("value", "flags"),
    [
        ("1101000000", {"AttLog", "OpLog", "EnrollUser"}),
        ("TransData AttLog\tOpLog", {"AttLog", "OpLog"}),
        ("TransData AttLog\\tOpLog", {"AttLog", "OpLog"}),
    ],
)
def test_transflag_has_two_forms(value: str, flags: set[str]) -> None:
    assert p.parse_trans_flag(value) == flags


@pytest.mark.parametrize(
    ("value", "offset"),
    [("7", timedelta(hours=7)), ("-5", timedelta(hours=-5)), ("330", timedelta(minutes=330))],
)
def test_timezone_is_hours_up_to_12_else_minutes(value: str, offset: timedelta) -> None:
    assert p.parse_timezone(value) == offset


def test_an_unparsable_option_is_noted_and_the_old_value_kept() -> None:
    options, notes = p.ServerOptions().merged({"Delay": "soon"})

    assert options.delay == 10
    assert notes == ["unparsable option Delay='soon'"]


@pytest.mark.parametrize(
    ("body", "ok", "count"),
    [("OK", True, None), ("OK:2", True, 2), ("OK: 0\n", True, 0), ("ERROR", False, None)],
)
def test_acks(body: str, ok: bool, count: int | None) -> None:
    ack = p.parse_ack(body)

    assert (ack.ok, ack.count) == (ok, count)


def test_commands_keep_colons_and_tabs_and_bare_lines_are_dropped() -> None:
    body = (
        "C:103:DATA QUERY ATTLOG StartTime=2025-08-01 00:00:00\tEndTime=2025-08-01 23:59:59\n"
        "INFO\n"
        "C:106:INFO\n"
    )

    commands, dropped = p.parse_command_body(body)

    assert commands == [
        p.Command(
            "103", "DATA QUERY ATTLOG StartTime=2025-08-01 00:00:00\tEndTime=2025-08-01 23:59:59"
        ),
        p.Command("106", "INFO"),
    ]
    assert dropped == ["INFO"]
    assert p.parse_command_body("OK") == ([], [])


def test_split_command_keeps_spaces_inside_values() -> None:
    text = "DATA UPDATE USERINFO PIN=1001\tName=Budi Santoso\tPri=0"

    words, args = p.split_command(text)

    assert words == ["DATA", "UPDATE", "USERINFO"]
    assert p.parse_fields(args) == {"PIN": "1001", "Name": "Budi Santoso", "Pri": "0"}
    assert p.split_command("GET OPTION FROM DeviceName") == (
        ["GET", "OPTION", "FROM", "DeviceName"],
        "",
    )


def test_batched_and_multiline_results_parse() -> None:
    body = (
        "ID=101&Return=0&CMD=DATA\n"
        "ID=104&Return=0&CMD=VERIFY SUM&StartTime=2025-08-01 00:00:00"
        "&EndTime=2025-08-01 23:59:59&AttLogSum=3\n"
        "ID=106&Return=0&CMD=INFO\n~DeviceName=SpeedFace-V5L\nUserCount=12\n"
    )

    results = p.parse_command_results(body)

    assert [(r.cmd_id, r.ret, r.cmd) for r in results] == [
        ("101", 0, "DATA"),
        ("104", 0, "VERIFY SUM"),
        ("106", 0, "INFO"),
    ]
    assert results[1].fields["AttLogSum"] == "3"
    assert results[2].lines == ["~DeviceName=SpeedFace-V5L", "UserCount=12"]
    assert p.parse_command_results(results[1].to_text())[0] == results[1]


def test_user_lines_round_trip_through_fields() -> None:
    user = p.User("36234", "Budi", 0, "", "133440")

    line = user.to_line()

    assert line.startswith("USER PIN=36234\tName=Budi\tPri=0\tPasswd=\tCard=133440\tGrp=1")
    assert p.User.from_fields(p.parse_fields(line[len("USER ") :])) == user


def test_oplog_line_matches_the_spec_example() -> None:
    record = p.OpRecord(4, "14", datetime(2025, 8, 5, 10, 22, 34))

    assert record.to_line() == "OPLOG 4\t14\t2025-08-05 10:22:34\t0\t0\t0\t0"
    assert p.parse_oplog_line(record.to_line()) == record


def test_device_options_and_info_param() -> None:
    body = p.format_device_options([("~DeviceName", "SpeedFace-V5L"), ("FaceFunOn", "1")])

    assert body == "~DeviceName=SpeedFace-V5L,FaceFunOn=1"
    assert p.parse_device_options(body) == {"DeviceName": "SpeedFace-V5L", "FaceFunOn": "1"}
    assert p.format_info_param(["Ver 2.0.12-20150625", 12, 30]) == "Ver 2.0.12-20150625,12,30"


def test_http_dates() -> None:
    moment = p.parse_http_date("Tue, 05 Aug 2025 00:00:05 GMT")

    assert moment is not None
    assert p.http_date(moment.timestamp()) == "Tue, 05 Aug 2025 00:00:05 GMT"
    assert p.parse_http_date(None) is None
    assert p.parse_http_date("not a date") is None


def test_versions_negotiate_down() -> None:
    assert p.lower_version("2.4.1", "2.2.14") == "2.2.14"
    assert p.lower_version("2.4.1", "3.1.2") == "2.4.1"
