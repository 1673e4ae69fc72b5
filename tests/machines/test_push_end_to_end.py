"""An emulated ZKTeco terminal (zkemu, written from the protocol description, not from
Tepat) talks to a live Tepat over real HTTP: what the machine sees, and what lands in the
ledger."""

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tepat.presence.models import CheckinEvent, Machine, MachinePunch, MachineUpload
from tests.machines.conftest import DeviceMaker
from tests.world import World
from zkemu import Quirks

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(autouse=True)
def _server_clock() -> Iterator[None]:
    """The server's clock a few seconds after the device's punches (Realtime=1)."""
    with time_machine.travel(datetime(2026, 11, 16, 7, 5, 30, tzinfo=WIB), tick=True):
        yield


def test_a_punch_reaches_the_ledger_in_the_machines_zone(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device()
    assert device.boot()
    device.punch(world.teacher.nip, status=0, verify=1)
    assert device.sync()
    assert device.pending_count() == 0
    assert device.violations == []
    event = CheckinEvent.objects.get()
    assert event.employee == world.teacher
    assert event.source == CheckinEvent.Source.MACHINE
    assert event.kind == CheckinEvent.Kind.IN
    assert event.status == CheckinEvent.Status.ACCEPTED
    assert event.taken_at == datetime(2026, 11, 16, 7, 5, tzinfo=WIB)
    assert event.site == world.school_site
    assert MachineUpload.objects.filter(table="ATTLOG").count() == 1


def test_an_unknown_serial_gets_harmless_answers_and_no_events(
    world: World, make_device: DeviceMaker
) -> None:
    device = make_device("UNKNOWN000001")
    device.boot()
    device.punch(world.teacher.nip)
    device.flush(max_failures=1)
    assert CheckinEvent.objects.count() == 0
    assert MachinePunch.objects.count() == 0
    quarantined = Machine.objects.get(serial="UNKNOWN000001")
    assert quarantined.status == Machine.Status.QUARANTINED
    # It was never told its punches were taken: they wait on the machine.
    assert device.acked_keys() == set()
    assert len(device.recorded_keys()) == 1


def test_a_replayed_batch_is_acknowledged_in_full_and_adds_nothing(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device(quirks=Quirks(replay_batches=True, duplicate_lines=True, reorder=True))
    device.go_offline()
    device.record_punches(40, [world.teacher.nip, world.teacher2.nip])
    assert device.go_online()
    assert device.stats.replays >= 1
    assert device.violations == []  # every replay answered OK:<lines sent>
    assert device.stats.short_acks == 0
    assert CheckinEvent.objects.count() == 40
    assert MachinePunch.objects.count() == 40
    assert {(e.payload["pin"], e.payload["time"]) for e in CheckinEvent.objects.all()} == {
        (pin, when) for pin, when, _, _ in device.recorded_keys()
    }


def test_an_offline_burst_arrives_exactly_once_through_aspx_paths_with_expect_continue(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    quirks = Quirks(
        aspx=True, expect_continue=True, table_stamp_names=True, attlog_fields=10, batch_size=200
    )
    device = make_device(quirks=quirks)
    assert device.boot()
    device.go_offline()
    device.record_punches(1000, [world.teacher.nip, world.teacher2.nip, world.principal.nip])
    assert device.go_online()
    assert device.pending_count() == 0
    assert device.violations == []
    assert device.stats.continues_received >= 5  # the server answered 100 Continue
    assert CheckinEvent.objects.count() == 1000
    assert MachineUpload.objects.filter(table="ATTLOG", query__contains="ATTLOGStamp=").exists()


def test_a_lost_reply_makes_the_machine_resend_and_nothing_doubles(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device()
    assert device.boot()
    device.lose_next_acks(1)
    device.punch(world.teacher.nip)
    assert device.sync()
    assert device.stats.lines_resent == 1
    assert CheckinEvent.objects.count() == 1
    assert MachineUpload.objects.filter(table="ATTLOG").count() == 2  # both bodies kept


def test_an_unreadable_line_is_kept_and_counted_so_the_machine_moves_on(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device(auto_upload=False)
    assert device.boot()
    device.punch(world.teacher.nip)
    device.add_malformed_line()
    device.punch("99999")  # a PIN nobody is mapped to
    assert device.flush()
    assert device.violations == []
    upload = MachineUpload.objects.get(table="ATTLOG")
    assert (upload.lines, upload.new, upload.rejected, upload.unmapped) == (3, 2, 1, 1)
    reasons = {p["reason"] for p in upload.problems}
    assert "control character" in reasons
    unmapped = MachinePunch.objects.get(pin="99999")
    assert unmapped.problem == MachinePunch.Problem.UNMAPPED
    assert CheckinEvent.objects.count() == 1


def test_gb2312_names_and_a_clock_change_reach_the_registry(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device(quirks=Quirks(name_encoding="gb2312", expect_continue=True))
    assert device.boot()
    device.enroll_user("1452", "王芳")
    device.set_time(datetime(2026, 11, 16, 6, 0))
    assert device.sync()
    assert device.violations == []
    machine.refresh_from_db()
    assert machine.enrolled["1452"] == "王芳"
    assert machine.encoding == "gb18030"
    assert machine.flags.filter(kind="time_set", resolved_at__isnull=True).exists()


def test_commands_are_delivered_and_their_results_recorded(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    from tepat.presence import iclock, machines
    from tepat.presence.models import MachineCommand

    device = make_device()
    assert device.boot()
    operator = world.users["operator_opd"]
    machines.command_queue(
        actor=operator,
        machine=machine,
        text=iclock.user_update_command(world.teacher.nip, "Rina Marlina"),
    )
    device.punch(world.teacher.nip, at=datetime(2026, 11, 16, 7, 1))
    window = (datetime(2026, 11, 16), datetime(2026, 11, 16, 23, 59, 59))
    machines.command_queue(actor=operator, machine=machine, text=iclock.verify_sum_command(*window))
    assert device.sync()
    assert device.users[world.teacher.nip].name == "Rina Marlina"
    assert device.violations == []
    assert device.forbidden_received == []
    states = dict(MachineCommand.objects.values_list("kind", "state"))
    assert states == {"user_update": "done", "verify_sum": "done"}
    verify = MachineCommand.objects.get(kind="verify_sum")
    assert verify.result["AttLogSum"] == "1"
    assert not machine.flags.filter(kind="count_mismatch").exists()


def test_a_machine_holding_punches_tepat_lacks_is_asked_for_them(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    """Tepat lost a punch (say, a restore from backup): the nightly VERIFY SUM finds the gap
    and the DATA QUERY it queues brings the punch back through cdata."""
    from tepat.presence import machines

    device = make_device()
    assert device.boot()
    device.punch(world.teacher.nip, at=datetime(2026, 11, 15, 7, 1))
    device.punch(world.teacher2.nip, at=datetime(2026, 11, 15, 7, 2))
    assert device.sync()
    MachinePunch.objects.filter(pin=world.teacher2.nip).delete()
    machines.machines_check(
        datetime(2026, 11, 16, 1, 0, tzinfo=WIB), reconcile_day=datetime(2026, 11, 15).date()
    )
    assert device.sync()
    assert machine.flags.filter(kind="count_mismatch").exists()
    assert MachinePunch.objects.filter(pin=world.teacher2.nip).exists()
