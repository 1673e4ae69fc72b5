"""Handshake and uploads, the emulator against the stub over loopback, one scenario each."""

import threading
from datetime import datetime, timedelta

from tests.zkemu.helpers import BASE, DeviceFactory, fresh_sn
from zkemu import Device, DeviceClock, Quirks, with_quirks
from zkemu import protocol as p
from zkemu.server_stub import Fault, StubServer

SPEC_DATE = 1754352005.0  # Tue, 05 Aug 2025 00:00:05 GMT


def uploads(stub: StubServer, sn: str, table: str = "ATTLOG") -> list[list[str]]:
    return [upload.lines for upload in stub.device(sn).uploads if upload.table == table]


def exactly_once(stub: StubServer, device: Device) -> bool:
    """Every punch the device holds is stored once by the server (dedupe by SN, PIN, time,
    status, verify), and the device has nothing left to send."""
    accepted = stub.accepted_keys(device.sn)
    return accepted == device.recorded_keys() and device.pending_count() == 0


# -- handshake ------------------------------------------------------------------------------


def test_boot_handshakes_then_pushes_device_options() -> None:
    with StubServer(now=lambda: SPEC_DATE) as stub:
        device = Device("0316144680030", stub.url, time_scale=0, timeout=3)

        assert device.boot()

    handshake, options_push = stub.requests[0], stub.requests[1]
    assert handshake.method == "GET"
    assert handshake.path == "/iclock/cdata"
    assert handshake.query == {
        "SN": "0316144680030",
        "options": "all",
        "pushver": "2.4.1",
        "language": "73",
    }
    assert handshake.headers["user-agent"] == "iClock Proxy/1.09"
    assert (options_push.method, options_push.query["table"]) == ("POST", "options")
    assert stub.device("0316144680030").device_options[0]["DeviceName"] == "SpeedFace-V5L"
    assert device.options.delay == 10
    assert device.options.trans_flags == {"AttLog", "OpLog", "EnrollUser", "ChgUser"}
    assert device.negotiated_version == "2.4.1"
    assert device.violations == []


def test_the_clock_is_set_from_the_date_header_plus_the_timezone() -> None:
    with StubServer(now=lambda: SPEC_DATE, options={"TimeZone": "8"}) as stub:
        device = Device(fresh_sn(), stub.url, time_scale=0, clock=DeviceClock(datetime(2020, 1, 1)))
        device.boot()

    assert abs(device.clock.now() - datetime(2025, 8, 5, 8, 0, 5)) < timedelta(seconds=2)


def test_a_reply_without_date_header_is_a_violation() -> None:
    with StubServer(send_date=False) as stub:
        device = Device(fresh_sn(), stub.url, time_scale=0, clock=DeviceClock(BASE))
        device.boot()
        device.poll()

    assert abs(device.clock.now() - BASE) < timedelta(seconds=5)  # not synced
    assert device.violations == [
        "handshake reply has no valid Date header",
        "getrequest reply has no valid Date header",
    ]


def test_an_unknown_sn_gets_ok_and_is_quarantined() -> None:
    with StubServer(allowed_sns={"KNOWN0000001"}) as stub:
        device = Device("UNKNOWN00001", stub.url, time_scale=0)
        device.boot()
        device.punch("1", at=BASE)

    assert len(device.attlog.pending()) == 1  # a bare OK does not acknowledge a batch
    assert "handshake reply header names SN None, not 'UNKNOWN00001'" in device.violations
    assert {r.query["SN"] for r in stub.quarantined} == {"UNKNOWN00001"}
    assert "UNKNOWN00001" not in stub.devices


# -- ATTLOG ---------------------------------------------------------------------------------


def test_a_realtime_punch_is_uploaded_at_once_with_its_stamp(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()

    device.punch("1452", 0, 1, at=datetime(2025, 8, 5, 7, 16, 28))
    device.punch("8965", 0, 15, at=datetime(2025, 8, 5, 7, 16, 36))

    posts = [u for u in stub.device(device.sn).uploads if u.table == "ATTLOG"]
    assert [u.lines for u in posts] == [
        ["1452\t2025-08-05 07:16:28\t0\t1\t0\t0\t0"],
        ["8965\t2025-08-05 07:16:36\t0\t15\t0\t0\t0"],
    ]
    assert [u.query["Stamp"] for u in posts] == ["0", "1"]
    assert [u.reply for u in posts] == ["OK:1", "OK:1"]
    assert device.stamps["ATTLOGStamp"] == "2"
    assert exactly_once(stub, device)


def test_without_realtime_punches_wait_for_a_flush_in_batches(make_device: DeviceFactory) -> None:
    with StubServer(options={"Realtime": "0"}) as stub:
        device = Device(fresh_sn(), stub.url, time_scale=0, quirks=Quirks(batch_size=4))
        device.boot()
        device.record_punches(10, ["1", "2"], start=BASE)
        assert uploads(stub, device.sn) == []

        assert device.flush()

    assert [len(lines) for lines in uploads(stub, device.sn)] == [4, 4, 2]
    assert stub.device(device.sn).pings == 2  # keep-alive between batches
    assert exactly_once(stub, device)


def test_ten_field_firmware(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(attlog_fields=10))
    device.boot()
    device.punch("7", 1, 15, at=BASE)

    assert uploads(stub, device.sn)[0][0].count("\t") == 9
    assert exactly_once(stub, device)


def test_a_fleet_mixing_seven_and_ten_field_lines(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.punch("7", at=BASE)
    with_quirks(device, attlog_fields=10)  # a firmware update
    device.punch("7", 1, at=BASE + timedelta(hours=8))

    assert [lines[0].count("\t") for lines in uploads(stub, device.sn)] == [6, 9]
    assert exactly_once(stub, device)


def test_the_aspx_variant_uses_aspx_paths(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(aspx=True))
    stub.queue(device.sn, "INFO")
    device.boot()
    device.punch("1", at=BASE)
    device.poll()
    device.ping()

    paths = {request.path for request in stub.requests}
    assert paths == {
        "/iclock/cdata.aspx",
        "/iclock/getrequest.aspx",
        "/iclock/devicecmd.aspx",
        "/iclock/ping.aspx",
    }
    assert exactly_once(stub, device)


def test_expect_100_continue_answered(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(expect_continue=True))
    device.boot()
    device.enroll_user("5", "Siti")
    device.punch("5", at=BASE)

    assert stub.expect_continue_seen == device.stats.continues_received >= 3
    assert all(r.headers.get("expect") == "100-continue" for r in stub.requests if r.body)
    assert exactly_once(stub, device)
    assert stub.device(device.sn).users["5"].name == "Siti"


def test_expect_100_continue_ignored_by_the_server_still_delivers() -> None:
    with StubServer(answer_continue=False) as stub:
        device = Device(
            fresh_sn(), stub.url, time_scale=0, quirks=Quirks(expect_continue=True, expect_wait=0.1)
        )
        device.boot()
        device.punch("5", at=BASE)

    assert device.stats.continues_received == 0
    assert stub.expect_continue_seen >= 2
    assert exactly_once(stub, device)


def test_table_specific_stamp_names(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(table_stamp_names=True))
    device.boot()
    device.punch("1", at=BASE)

    tables = {u.table: u.query for u in stub.device(device.sn).uploads}
    assert "ATTLOGStamp" in tables["ATTLOG"]
    assert "Stamp" not in tables["ATTLOG"]
    assert "OPERLOGStamp" in tables["OPERLOG"]


def test_a_lost_reply_makes_the_device_resend_the_same_batch(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.lose_next_acks(1)

    device.punch("1", at=BASE)
    assert len(device.attlog.pending()) == 1
    assert device.flush()

    first, second = uploads(stub, device.sn)
    assert first == second
    assert device.stats.lines_resent == 1
    assert len(stub.device(device.sn).attlog_lines) == 2
    assert exactly_once(stub, device)


def test_a_server_too_slow_for_the_device_timeout_gets_the_batch_again(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(timeout=0.3, quirks=Quirks(batch_size=5))
    device.boot()
    stub.plan(device.sn, Fault.delay(0.6))
    device.record_punches(5, ["1"], start=BASE)

    assert device.flush()

    assert device.stats.transport_errors == 1
    assert uploads(stub, device.sn)[0] == uploads(stub, device.sn)[1]
    assert exactly_once(stub, device)


def test_reordered_batches(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(reorder=True, batch_size=10), seed=3)
    device.boot()
    device.go_offline()
    records = device.record_punches(30, ["1", "2", "3"], start=BASE)
    device.go_online()

    sent = [line for lines in uploads(stub, device.sn) for line in lines]
    assert sent != [record.to_line() for record in records]
    assert sorted(sent) == sorted(record.to_line() for record in records)
    assert exactly_once(stub, device)


def test_duplicate_lines_in_a_batch(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(duplicate_lines=True, batch_size=10))
    device.boot()
    device.go_offline()
    device.record_punches(20, ["1", "2"], start=BASE)
    device.go_online()

    log = stub.device(device.sn)
    assert len(log.attlog_lines) > 20
    assert [u.reply for u in log.uploads if u.table == "ATTLOG"] == [
        f"OK:{len(lines)}" for lines in uploads(stub, device.sn)
    ]
    assert exactly_once(stub, device)


def test_an_offline_burst_is_uploaded_in_firmware_sized_batches(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(batch_size=100))
    device.boot()
    device.go_offline()
    requests_before = len(stub.requests)

    for minute in range(30):  # half an hour of punching while the office link is down
        device.punch(str(minute % 7), at=BASE + timedelta(minutes=minute))
    device.record_punches(
        2970, [str(pin) for pin in range(1, 400)], start=BASE + timedelta(hours=1)
    )
    assert len(stub.requests) == requests_before

    assert device.go_online()

    sizes = [len(lines) for lines in uploads(stub, device.sn)]
    assert sizes == [100] * 30
    assert stub.device(device.sn).pings == 29
    assert exactly_once(stub, device)
    assert len(stub.accepted_keys(device.sn)) == 3000


def test_a_malformed_line_is_counted_and_does_not_block_the_batch(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.go_offline()
    device.punch("1", at=BASE)
    bad = device.add_malformed_line()
    device.punch("2", at=BASE + timedelta(seconds=5))
    device.go_online()

    log = stub.device(device.sn)
    assert log.rejected == [bad.line]
    assert [u.reply for u in log.uploads if u.table == "ATTLOG"] == ["OK:3"]
    assert exactly_once(stub, device)


def test_a_replayed_batch_is_acknowledged_as_processed(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(replay_batches=True))
    device.boot()
    device.punch("1", at=BASE)

    assert len(stub.device(device.sn).attlog_lines) == 2
    assert device.violations == []
    assert exactly_once(stub, device)


def test_a_server_counting_only_new_rows_is_caught_on_replay(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(replay_batches=True))
    device.boot()
    stub.plan(device.sn, Fault.ok(), Fault.new_only())
    device.punch("1", at=BASE)

    assert device.violations == ["ATTLOG: replayed 1-line batch answered 'OK:0', not OK:1"]


def test_ok_zero_for_a_resent_batch_keeps_a_strict_device_resending(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    stub.plan(device.sn, *[Fault.new_only()] * 10)
    device.lose_next_acks(1)
    device.punch("1", at=BASE)

    assert not device.flush(max_failures=3)

    assert len(device.attlog.pending()) == 1
    assert device.stats.short_acks == 3
    assert stub.accepted_keys(device.sn) == device.recorded_keys()


def test_a_bare_ok_does_not_acknowledge_a_strict_device(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    stub.plan(device.sn, Fault.bare_ok())
    device.punch("1", at=BASE)

    assert len(device.attlog.pending()) == 1
    assert device.violations == ["ATTLOG: bare 'OK' to a 1-line upload (expected OK:1)"]
    assert device.flush()
    assert exactly_once(stub, device)


def test_a_lenient_device_takes_a_bare_ok(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(bare_ok_acks=True))
    device.boot()
    stub.plan(device.sn, Fault.bare_ok())
    device.punch("1", at=BASE)

    assert len(uploads(stub, device.sn)) == 1
    assert exactly_once(stub, device)


def test_a_short_ack_under_the_prefix_policy_resends_only_the_rest(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(ack_policy="prefix", batch_size=5))
    device.boot()
    stub.plan(device.sn, Fault.partial(2))
    device.go_offline()
    device.record_punches(5, ["1"], start=BASE)
    device.go_online()

    assert [len(lines) for lines in uploads(stub, device.sn)] == [5, 3]
    assert exactly_once(stub, device)


def test_a_short_ack_under_the_strict_policy_resends_everything(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(batch_size=5))
    device.boot()
    stub.plan(device.sn, Fault.partial(2))
    device.go_offline()
    device.record_punches(5, ["1"], start=BASE)
    device.go_online()

    assert [len(lines) for lines in uploads(stub, device.sn)] == [5, 5]
    assert exactly_once(stub, device)


def test_errors_wait_error_delay_then_resend() -> None:
    waits: list[float] = []
    with StubServer(options={"ErrorDelay": "45"}) as stub:
        device = Device(fresh_sn(), stub.url, sleep=waits.append)
        device.boot()
        stub.plan(device.sn, Fault.error(), Fault.http_500(), Fault.drop_before())
        device.go_offline()
        device.punch("1", at=BASE)

        assert device.go_online()

    assert waits == [45.0, 45.0, 45.0]
    assert device.stats.http_errors == 1
    assert device.stats.transport_errors == 1
    assert exactly_once(stub, device)


def test_punches_while_the_server_is_down_survive() -> None:
    stub = StubServer().start()
    device = Device(fresh_sn(), stub.url, time_scale=0, timeout=1)
    device.boot()
    url = stub.url
    stub.stop()

    device.punch("1", at=BASE)
    assert not device.flush(max_failures=2)

    with StubServer(port=int(url.rsplit(":", 1)[1])) as again:
        assert device.flush()
        assert again.accepted_keys(device.sn) == device.recorded_keys()


# -- clock, stamps, tamper signals ----------------------------------------------------------


def test_setting_the_clock_logs_oplog_21_and_moves_later_punches(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(clock=DeviceClock(BASE), sync_clock=False)
    device.boot()
    before = device.punch("1")

    device.set_time(BASE + timedelta(hours=2), operator="14")
    after = device.punch("1", 1)

    assert after.time - before.time >= timedelta(hours=2)
    oplog = stub.device(device.sn).oplog
    assert [r.op_type for r in oplog] == [p.OP_POWER_ON, p.OP_SET_TIME]
    assert oplog[1].operator == "14"
    assert exactly_once(stub, device)


def test_factory_reset_and_log_deletion_are_reported(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.punch("1", at=BASE)

    device.factory_reset()
    device.boot()
    device.clear_attlog()
    device.flush()

    assert stub.device(device.sn).oplog_types() == [
        p.OP_POWER_ON,
        p.OP_FACTORY_RESET,
        p.OP_DELETE_LOGS,
    ]
    assert device.recorded_keys() == set()
    assert len(stub.accepted_keys(device.sn)) == 1  # the server keeps what it had


def test_a_silent_drift_moves_punch_times_without_any_oplog(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(clock=DeviceClock(BASE), sync_clock=False)
    device.boot()

    device.drift(timedelta(minutes=-17))
    record = device.punch("1")

    assert record.time < BASE
    assert stub.device(device.sn).oplog_types() == [p.OP_POWER_ON]


def test_a_drifting_clock_runs_fast() -> None:
    ticks = iter([0.0, 3600.0])
    clock = DeviceClock(BASE, drift_ppm=1000, monotonic=lambda: next(ticks))

    assert clock.now() == BASE + timedelta(hours=1, seconds=3.6)


def test_a_stamp_reset_re_uploads_everything(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device()
    device.boot()
    device.go_offline()
    device.record_punches(8, ["1", "2"], start=BASE)
    device.go_online()

    device.reset_stamps()
    assert device.pending_count() == 8 + 1  # and the OPLOG power-on row
    assert device.flush()

    posts = [u for u in stub.device(device.sn).uploads if u.table == "ATTLOG"]
    assert [u.query["Stamp"] for u in posts] == ["0", "0"]
    assert len(stub.device(device.sn).attlog_lines) == 16
    assert exactly_once(stub, device)


def test_server_stamp_zero_on_check_asks_for_everything_again(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.punch("1", at=BASE)
    device.punch("2", at=BASE)
    stub.set_next_stamps(device.sn, ATTLOG="0")
    check = stub.queue(device.sn, "CHECK")

    device.poll()

    result = stub.device(device.sn).result(check)
    assert result is not None
    assert result.ret == 0
    assert len(stub.device(device.sn).attlog_lines) == 4
    assert exactly_once(stub, device)


def test_new_firmware_ignores_a_numeric_stamp_old_firmware_resumes_after_it() -> None:
    with StubServer() as stub:
        new = Device(fresh_sn(), stub.url, time_scale=0)
        old = Device(fresh_sn(), stub.url, time_scale=0, quirks=Quirks(honour_numeric_stamp=True))
        for device in (new, old):
            device.boot()
            device.record_punches(6, ["1"], start=BASE)
            device.flush()
            stub.set_next_stamps(device.sn, ATTLOG="4")
            device.reboot()
            device.flush()

    assert len(stub.device(new.sn).attlog_lines) == 6
    assert len(stub.device(old.sn).attlog_lines) == 8  # rows 5 and 6 again
    assert exactly_once(stub, new)
    assert exactly_once(stub, old)


# -- OPERLOG and users ----------------------------------------------------------------------


def test_enrolment_uploads_oplog_user_and_template_rows() -> None:
    with StubServer(options={"TransFlag": "TransData AttLog\tOpLog\tEnrollUser\tEnrollFP"}) as own:
        device = Device(fresh_sn(), own.url, time_scale=0)
        device.boot()
        device.enroll_user("36234", "Budi", card="133440", fingerprint=True)

    log = own.device(device.sn)
    lines = [line for u in log.uploads if u.table == "OPERLOG" for line in u.lines]
    assert [line.split(" ", 1)[0] for line in lines] == ["OPLOG", "OPLOG", "USER", "FP"]
    assert log.oplog_types() == [p.OP_POWER_ON, p.OP_NEW_USER]
    assert log.users["36234"].card == "133440"
    assert log.templates_dropped == 1
    assert device.pending_count() == 0


def test_transflag_without_templates_keeps_them_on_the_device(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device()
    device.boot()
    device.enroll_user("1", "Ani", fingerprint=True)

    assert stub.device(device.sn).templates_dropped == 0
    assert device.pending_count() == 0  # not to be transmitted under this TransFlag


def test_some_firmware_posts_users_as_table_userinfo(
    stub: StubServer, make_device: DeviceFactory
) -> None:
    device = make_device(quirks=Quirks(userinfo_table=True))
    device.boot()
    device.enroll_user("9", "Dewi")

    assert uploads(stub, device.sn, "USERINFO") == [[p.User("9", "Dewi").to_line()]]
    assert stub.device(device.sn).users["9"].name == "Dewi"


def test_gb2312_names(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(name_encoding="gb2312"))
    device.boot()
    device.enroll_user("88", "张伟")

    body = next(
        r.body for r in stub.requests if r.query.get("table") == "OPERLOG" and b"USER" in r.body
    )
    assert "张伟".encode("gb2312") in body
    assert stub.device(device.sn).users["88"].name == "张伟"


def test_utf8_names(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device()
    device.boot()
    device.enroll_user("89", "Ni Luh Putu Ayu Ñ")

    assert stub.device(device.sn).users["89"].name == "Ni Luh Putu Ayu Ñ"


# -- the run loop ---------------------------------------------------------------------------


def test_run_polls_and_uploads_until_stopped(stub: StubServer) -> None:
    device = Device(fresh_sn(), stub.url, time_scale=0.001, timeout=3)
    stop = threading.Event()
    worker = threading.Thread(target=device.run, args=(10.0,), kwargs={"stop": stop})
    worker.start()
    device.punch("1", at=BASE)
    info = stub.queue(device.sn, "INFO")
    for _ in range(200):
        log = stub.device(device.sn)
        if log.result(info) is not None and device.pending_count() == 0 and log.polls >= 3:
            break
        threading.Event().wait(0.01)
    stop.set()
    worker.join(timeout=5)

    assert not worker.is_alive()
    assert stub.device(device.sn).result(info) is not None
    assert exactly_once(stub, device)
    assert stub.device(device.sn).polls >= 3


# -- abuse cases ----------------------------------------------------------------------------


def test_an_oversize_body_is_refused_and_nothing_is_stored() -> None:
    with StubServer(max_body=1000) as stub:
        device = Device(fresh_sn(), stub.url, time_scale=0)
        device.boot()
        body = b"1\t2025-08-05 07:00:00\t0\t1\t0\t0\t0\n" * 100

        reply = device.send_raw("POST", "cdata", [("SN", device.sn), ("table", "ATTLOG")], body)

    assert reply.status == 413
    assert stub.accepted_keys(device.sn) == set()


def test_send_raw_reaches_any_table(stub: StubServer, make_device: DeviceFactory) -> None:
    device = make_device(quirks=Quirks(aspx=True))

    reply = device.send_raw("POST", "cdata", [("SN", device.sn), ("table", "ERRORLOG")], b"x")

    assert (reply.status, reply.text()) == (200, "OK")
    assert stub.requests[-1].path == "/iclock/cdata.aspx"


def test_a_reply_later_than_the_timeout_counts_as_lost(stub: StubServer) -> None:
    device = Device(fresh_sn(), stub.url, time_scale=0, timeout=0.1)
    device.boot()
    stub.plan(device.sn, Fault.delay(0.3))
    device.punch("1", at=BASE)
    threading.Event().wait(0.4)  # the stub's late reply goes to a closed socket

    assert device.stats.transport_errors == 1
    assert device.flush()
    assert exactly_once(stub, device)
