"""Commands: getrequest -> execution on the device -> results batched to devicecmd."""

from datetime import timedelta

import pytest

from tests.zkemu.helpers import BASE, DeviceFactory
from zkemu import Device, Quirks
from zkemu import protocol as p
from zkemu.server_stub import Fault, StubServer

WINDOW = "StartTime=2025-08-05 00:00:00\tEndTime=2025-08-05 23:59:59"


@pytest.fixture
def device(make_device: DeviceFactory) -> Device:
    booted = make_device()
    assert booted.boot()
    return booted


def run(stub: StubServer, device: Device, text: str) -> p.CommandResult:
    cmd_id = stub.queue(device.sn, text)
    device.poll()
    result = stub.device(device.sn).result(cmd_id)
    assert result is not None, f"no result for {text!r}"
    return result


def test_update_user_round_trips(stub: StubServer, device: Device) -> None:
    text = "DATA UPDATE USERINFO PIN=1001\tName=Budi Santoso\tPri=0\tPasswd=\tCard=\tGrp=1"
    result = run(stub, device, text + "\tTZ=0000000000000000\tVerify=-1")

    assert (result.ret, result.cmd) == (0, "DATA")
    assert device.users["1001"] == p.User("1001", "Budi Santoso", 0, "", "", "1")


def test_delete_user_and_a_missing_pin(stub: StubServer, device: Device) -> None:
    run(stub, device, "DATA UPDATE USERINFO PIN=1002\tName=Ani\tPri=0")

    assert run(stub, device, "DATA DELETE USERINFO PIN=1002").ret == p.RET_OK
    assert "1002" not in device.users
    assert run(stub, device, "DATA DELETE USERINFO PIN=1002").ret == p.RET_PIN_NOT_FOUND


def test_verify_sum_counts_the_window(stub: StubServer, device: Device) -> None:
    device.record_punches(5, ["1"], start=BASE)
    device.record_punches(3, ["1"], start=BASE + timedelta(days=1))

    result = run(stub, device, f"VERIFY SUM ATTLOG {WINDOW}")

    assert (result.ret, result.cmd) == (0, "VERIFY SUM")
    assert result.fields == {
        "StartTime": "2025-08-05 00:00:00",
        "EndTime": "2025-08-05 23:59:59",
        "AttLogSum": "5",
    }


def test_query_attlog_re_uploads_the_window_through_cdata(stub: StubServer, device: Device) -> None:
    device.record_punches(4, ["1", "2"], start=BASE)
    device.record_punches(2, ["1"], start=BASE - timedelta(days=1))
    assert device.flush()
    received = len(stub.device(device.sn).attlog_lines)

    result = run(stub, device, f"DATA QUERY ATTLOG {WINDOW}")

    assert (result.ret, result.cmd, result.lines) == (0, "DATA", [])
    assert len(stub.device(device.sn).attlog_lines) == received + 4
    assert stub.accepted_keys(device.sn) == device.recorded_keys()


def test_query_attlog_brings_back_what_the_server_lost(stub: StubServer, device: Device) -> None:
    device.record_punches(4, ["1"], start=BASE)
    device.flush()
    stub.device(device.sn).punches.clear()  # e.g. restored from an old backup

    run(stub, device, f"DATA QUERY ATTLOG {WINDOW}")

    assert stub.accepted_keys(device.sn) == device.recorded_keys()


def test_query_users_pushes_user_rows(stub: StubServer, device: Device) -> None:
    device.enroll_user("7", "Rina")
    device.flush()
    stub.device(device.sn).users.clear()

    result = run(stub, device, "DATA QUERY USERINFO PIN=7")

    assert result.ret == 0
    assert stub.device(device.sn).users["7"].name == "Rina"
    assert run(stub, device, "DATA QUERY USERINFO PIN=404").ret == p.RET_PIN_NOT_FOUND


def test_info_is_multiline_and_the_first_poll_carries_info(
    stub: StubServer, device: Device
) -> None:
    device.enroll_user("1", "A")
    result = run(stub, device, "INFO")

    info = dict(line.split("=", 1) for line in result.lines)
    assert info["~DeviceName"] == "SpeedFace-V5L"
    assert info["UserCount"] == "1"
    assert stub.device(device.sn).info == ["Ver 8.0.4.2-20230807,1,0,0,10.1.2.3,10,7,15,0,111"]


def test_reboot_reports_then_boots_again(stub: StubServer, device: Device) -> None:
    result = run(stub, device, "REBOOT")
    device.flush()

    assert (result.ret, result.cmd) == (0, "REBOOT")
    assert len(stub.device(device.sn).handshakes) == 2
    oplog_lines = stub.device(device.sn).oplog_lines  # both within a second: equal records
    assert [line.split("\t")[0] for line in oplog_lines] == ["OPLOG 0", "OPLOG 0"]


def test_check_re_reads_options(stub: StubServer, device: Device) -> None:
    stub.options["Delay"] = "3"

    result = run(stub, device, "CHECK")

    assert (result.ret, result.cmd) == (0, "CHECK")
    assert device.options.delay == 3


def test_log_uploads_now(stub: StubServer, device: Device) -> None:
    device.go_offline()
    device.punch("1", at=BASE)
    device.is_online = True  # back, but nothing triggered an upload yet

    result = run(stub, device, "LOG")

    assert (result.ret, result.cmd) == (0, "LOG")
    assert stub.accepted_keys(device.sn) == device.recorded_keys()


def test_results_are_batched_in_one_post(stub: StubServer, device: Device) -> None:
    ids = [stub.queue(device.sn, f"DATA UPDATE USERINFO PIN={pin}\tName=U{pin}") for pin in "123"]
    posts_before = sum(1 for r in stub.requests if r.path.endswith("devicecmd"))

    device.poll()

    posts = [r for r in stub.requests if r.path.endswith("devicecmd")][posts_before:]
    assert len(posts) == 1
    assert posts[0].body.decode().splitlines() == [f"ID={i}&Return=0&CMD=DATA" for i in ids]


def test_a_bare_command_is_dropped(stub: StubServer, device: Device) -> None:
    stub.queue_bare(device.sn, "INFO")

    assert device.poll() == []

    assert device.dropped_lines == ["INFO"]
    assert stub.device(device.sn).results == []


@pytest.mark.parametrize(
    "text",
    ["USER ADD PIN=5\tName=X", "USER DEL PIN=5", "DATA DEL USERINFO PIN=5", "ENROLL_FP PIN=5"],
)
def test_commands_real_hardware_rejects(stub: StubServer, device: Device, text: str) -> None:
    assert run(stub, device, text).ret == p.RET_NOT_SUPPORTED


def test_an_unsupported_table_is_refused(stub: StubServer, device: Device) -> None:
    assert run(stub, device, "DATA UPDATE FINGERTMP PIN=5").ret == p.RET_TABLE_NOT_SUPPORTED


@pytest.mark.parametrize("text", ["SHELL date", "Shell reboot", "PutFile a.tgz", "UPGRADE x"])
def test_forbidden_commands_are_recorded_and_refused(
    stub: StubServer, device: Device, text: str
) -> None:
    assert run(stub, device, text).ret == p.RET_NOT_SUPPORTED
    assert [c.text for c in device.forbidden_received] == [text]


def test_clear_log_is_obeyed_and_recorded(stub: StubServer, device: Device) -> None:
    device.punch("1", at=BASE)

    result = run(stub, device, "CLEAR LOG")
    device.flush()

    assert (result.ret, result.cmd) == (0, "CLEAR LOG")
    assert device.recorded_keys() == set()
    assert [c.text for c in device.forbidden_received] == ["CLEAR LOG"]
    assert p.OP_DELETE_LOGS in stub.device(device.sn).oplog_types()


def test_set_and_get_option(stub: StubServer, device: Device) -> None:
    assert run(stub, device, "SET OPTION Delay=5").ret == 0
    assert device.options.delay == 5

    result = run(stub, device, "GET OPTION FROM DeviceName")

    assert (result.ret, result.cmd, result.lines) == (0, "GET OPTION", ["DeviceName=SpeedFace-V5L"])
    assert run(stub, device, "GET OPTION FROM NoSuchKey").ret == p.RET_PARAM_ERROR


def test_a_control_character_in_a_field_is_refused(stub: StubServer, device: Device) -> None:
    result = run(stub, device, "DATA UPDATE USERINFO PIN=9\tName=Bad\rName")

    assert result.ret == p.RET_PARAM_ERROR
    assert "9" not in device.users
    assert len(device.violations) == 1


def test_a_newline_in_a_name_splits_the_command(stub: StubServer, device: Device) -> None:
    """What an unescaped name does on the wire: the tail becomes a bare line, dropped."""
    run(stub, device, "DATA UPDATE USERINFO PIN=9\tName=Bad\nREBOOT")

    assert device.users["9"].name == "Bad"
    assert device.dropped_lines == ["REBOOT"]


def test_server_side_mistakes_are_reported(stub: StubServer, device: Device) -> None:
    stub.queue(device.sn, "INFO", cmd_id="this-id-is-far-too-long")
    stub.queue(device.sn, "DATA UPDATE USERINFO PIN=3\\tName=X", cmd_id="7")
    stub.queue(device.sn, "INFO", cmd_id="7")

    device.poll()

    assert device.violations == [
        "command id 'this-id-is-far-too-long' is not 1-16 letters/digits",
        "command 7: literal backslash-t instead of TAB",
    ]
    assert device.repeated_command_ids == ["7"]


def test_gb2312_device_reads_commands_in_gb2312() -> None:
    with StubServer() as stub:
        device = Device("CQZGB0000001", stub.url, time_scale=0)
        device.quirks = Quirks(name_encoding="gb2312")
        device.boot()
        stub.queue(device.sn, "DATA UPDATE USERINFO PIN=1\tName=Budi")
        device.poll()

    assert device.users["1"].name == "Budi"


def test_devicecmd_results_are_kept_until_acknowledged(stub: StubServer, device: Device) -> None:
    stub.plan(device.sn, Fault.drop_before(), Fault.error("busy"), table="devicecmd")
    cmd_id = stub.queue(device.sn, "INFO")

    device.poll()  # runs INFO, the result post is cut off
    device.poll()  # posts again, told "busy"
    assert stub.device(device.sn).result(cmd_id) is None
    device.poll()

    assert stub.device(device.sn).result(cmd_id) is not None
    assert device.violations == ["devicecmd reply 'busy', expected OK"]
    assert device.stats.results_posted == 1
    assert device.sync()
