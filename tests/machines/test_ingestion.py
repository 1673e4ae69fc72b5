"""From punch to ledger and verdict: PIN mapping, OPD membership, the rebuild of the days a
backlog touches, the USB file and the Fingerspot webhook, and the back-office pages."""

import io
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from tepat.presence import iclock, machines, punches
from tepat.presence.models import (
    CheckinEvent,
    Machine,
    MachinePunch,
    MachineUpload,
    PinMapping,
)
from tests.machines.conftest import SERIAL
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _push(*lines: str) -> bytes:
    body = ("\n".join(lines) + "\n").encode()
    return Client().generic("POST", f"/iclock/cdata?SN={SERIAL}&table=ATTLOG", body).content


def test_an_unmapped_pin_is_kept_listed_and_entered_once_it_is_mapped(
    world: World, machine: Machine
) -> None:
    assert _push("1452\t2026-11-16 07:01:00\t0\t1\t0\t0\t0") == b"OK:1"
    assert not CheckinEvent.objects.exists()
    page = login(Client(), world.users["operator_opd"]).get(f"/presensi/mesin/{machine.pk}/")
    assert b"1452" in page.content
    machines.pin_map(
        actor=world.users["operator_opd"],
        machine=machine,
        pin="1452",
        employee=world.teacher,
        now=NOW,
    )
    event = CheckinEvent.objects.get()
    assert event.employee == world.teacher
    assert event.taken_at == datetime(2026, 11, 16, 7, 1, tzinfo=WIB)
    assert MachinePunch.objects.get().problem == ""


def test_machine_mapping_wins_over_regency_mapping_which_wins_over_the_nip(
    world: World, machine: Machine
) -> None:
    PinMapping.objects.create(machine=None, pin="7", employee=world.teacher2)
    PinMapping.objects.create(machine=machine, pin="7", employee=world.teacher)
    PinMapping.objects.create(machine=None, pin="8", employee=world.principal)
    _push(
        "7\t2026-11-16 07:01:00\t0\t1\t0\t0\t0",
        "8\t2026-11-16 07:02:00\t0\t1\t0\t0\t0",
        f"{world.teacher2.nip}\t2026-11-16 07:03:00\t0\t1\t0\t0\t0",
    )
    by_pin = {e.payload["pin"]: e.employee for e in CheckinEvent.objects.all()}
    assert by_pin == {"7": world.teacher, "8": world.principal, world.teacher2.nip: world.teacher2}


def test_a_pin_of_another_opds_employee_is_kept_but_not_counted(
    world: World, machine: Machine
) -> None:
    _push(f"{world.nurse.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0")
    assert not CheckinEvent.objects.exists()
    assert MachinePunch.objects.get().problem == MachinePunch.Problem.OTHER_OPD


def test_remapping_a_pin_to_someone_else_raises_a_flag(world: World, machine: Machine) -> None:
    operator = world.users["operator_opd"]
    machines.pin_map(actor=operator, machine=machine, pin="5", employee=world.teacher, now=NOW)
    machines.pin_map(actor=operator, machine=machine, pin="5", employee=world.teacher, now=NOW)
    assert not machine.flags.exists()
    machines.pin_map(actor=operator, machine=machine, pin="5", employee=world.teacher2, now=NOW)
    assert machine.flags.get().kind == "pin_remap"


def test_a_backlog_queues_the_rebuild_of_each_past_employee_day_once(
    world: World, machine: Machine, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        _push(
            f"{world.teacher.nip}\t2026-11-16 07:01:00\t0\t1\t0\t0\t0",
            f"{world.teacher.nip}\t2026-11-16 16:01:00\t1\t1\t0\t0\t0",
            f"{world.teacher.nip}\t2026-11-17 07:01:00\t0\t1\t0\t0\t0",
            f"{world.teacher.nip}\t2026-11-18 07:01:00\t0\t1\t0\t0\t0",  # today: the nightly run
        )
    # One queued task for the whole upload, not one row (and one commit) per employee-day:
    # the punches' past days, and the day before the first (a night shift there would close
    # with the 07:01 check-out). Today's and tomorrow's are the nightly run's.
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("attendance_days_rebuild_task")
    assert task.args_kwargs["args"] == [
        [
            [world.teacher.pk, "2026-11-15"],
            [world.teacher.pk, "2026-11-16"],
            [world.teacher.pk, "2026-11-17"],
        ]
    ]
    # The nightly rebuild of the pushed days reads the machine's events like any other.
    from tepat.presence.attendance import attendance_day_rebuild

    assert attendance_day_rebuild(world.teacher, date(2026, 11, 16)) is None  # no schedule set
    from tepat.presence.tasks import attendance_days_rebuild_task

    assert attendance_days_rebuild_task.call(*task.args_kwargs["args"]) == "3 days"
    kinds = list(CheckinEvent.objects.order_by("taken_at").values_list("kind", flat=True))
    assert kinds == ["in", "out", "in", "in"]


ATTLOG_FILE = (
    "        1452\t2026-11-16 07:01:00\t0\t1\t0\t0\n"  # ZK's export pads the PIN
    "{nip}\t2026-11-16 07:02:00\t0\t1\t0\t0\n"
    "garbage line\n"
)


def test_the_usb_file_imports_with_a_dry_run_and_a_second_upload_changes_nothing(
    world: World, machine: Machine
) -> None:
    client = login(Client(), world.users["operator_opd"])
    content = ATTLOG_FILE.format(nip=world.teacher.nip).encode()
    url = f"/presensi/mesin/{machine.pk}/impor/"

    def upload(dry_run: bool) -> Any:
        data: dict[str, Any] = {"file": SimpleUploadedFile(f"{SERIAL}_attlog.dat", content)}
        if dry_run:
            data["dry_run"] = "on"
        return client.post(url, data)

    dry = upload(dry_run=True)
    assert dry.status_code == 200
    assert "Uji coba: tidak ada yang disimpan." in dry.content.decode()
    assert not CheckinEvent.objects.exists()
    done = upload(dry_run=False)
    assert done.status_code == 200
    assert CheckinEvent.objects.count() == 1
    imported = MachineUpload.objects.get(state="processed")
    assert (imported.lines, imported.new, imported.unmapped, imported.rejected) == (3, 2, 1, 1)
    assert "garbage line" in done.content.decode()
    upload(dry_run=False)
    assert MachineUpload.objects.filter(source="usb", state="processed").count() == 1
    assert CheckinEvent.objects.count() == 1


def test_the_usb_import_refuses_a_file_that_is_not_an_attlog(
    world: World, machine: Machine
) -> None:
    client = login(Client(), world.users["operator_opd"])
    response = client.post(
        f"/presensi/mesin/{machine.pk}/impor/",
        {"file": SimpleUploadedFile("foto.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")},
    )
    assert response.status_code == 400
    assert not MachineUpload.objects.exists()


def test_another_opds_operator_cannot_see_or_import_for_the_machine(
    world: World, machine: Machine
) -> None:
    client = login(Client(), world.users["operator_other"])
    assert client.get(f"/presensi/mesin/{machine.pk}/").status_code == 404
    assert client.get(f"/presensi/mesin/{machine.pk}/impor/").status_code == 404
    assert SERIAL.encode() not in client.get("/presensi/mesin/").content


def test_the_management_command_imports_the_same_way(
    world: World, machine: Machine, tmp_path: Any
) -> None:
    path = tmp_path / f"{SERIAL}_attlog.dat"
    path.write_text(ATTLOG_FILE.format(nip=world.teacher.nip))
    out = io.StringIO()
    call_command("attlog_import", SERIAL, str(path), stdout=out)
    assert "baru 2" in out.getvalue()
    assert "garbage line" in out.getvalue()
    call_command("attlog_import", SERIAL, str(path), stdout=out)
    assert "sudah pernah diimpor" in out.getvalue()
    assert CheckinEvent.objects.count() == 1


@pytest.fixture
def fingerspot_machine(world: World) -> tuple[Machine, str]:
    machine = machines.machine_register(
        actor=world.users["admin_bkpsdm"],
        serial="C2630450C3231F23",
        unit=world.school,
        vendor=Machine.Vendor.FINGERSPOT,
    )
    secret = machines.machine_secret_issue(
        actor=world.users["admin_bkpsdm"], machine=machine, kind="webhook_secret"
    )
    return machine, secret


def _hook(pin: str, scan: str, cloud_id: str = "C2630450C3231F23") -> str:
    return json.dumps(
        {
            "type": "attlog",
            "cloud_id": cloud_id,
            "data": {"pin": pin, "scan": scan, "verify": "1", "status_scan": "1"},
        }
    )


def test_the_fingerspot_webhook_enters_a_punch_once(
    world: World, fingerspot_machine: tuple[Machine, str]
) -> None:
    _, secret = fingerspot_machine
    url = f"/mesin/fingerspot/{secret}"
    body = _hook(world.teacher.nip, "2026-11-16 16:05")
    first = Client().post(url, body, content_type="application/json")
    again = Client().post(url, body, content_type="application/json")
    assert first.json() == {"ok": True, "new": 1, "duplicates": 0}
    assert again.json() == {"ok": True, "new": 0, "duplicates": 1}
    event = CheckinEvent.objects.get()
    assert (event.kind, event.taken_at) == ("out", datetime(2026, 11, 16, 16, 5, tzinfo=WIB))


def test_the_fingerspot_webhook_refuses_a_wrong_secret_or_cloud_id(
    world: World, fingerspot_machine: tuple[Machine, str]
) -> None:
    _, secret = fingerspot_machine
    body = _hook(world.teacher.nip, "2026-11-16 16:05")
    wrong = Client().post("/mesin/fingerspot/guess", body, content_type="application/json")
    other = Client().post(
        f"/mesin/fingerspot/{secret}",
        _hook(world.teacher.nip, "2026-11-16 16:05", cloud_id="OTHER"),
        content_type="application/json",
    )
    junk = Client().post(f"/mesin/fingerspot/{secret}", "{", content_type="application/json")
    assert (wrong.status_code, other.status_code, junk.status_code) == (404, 400, 400)
    # Values the ledger cannot hold are refused (a 4xx), not a failed save asking to resend.
    huge = json.loads(_hook(world.teacher.nip, "2026-11-16 16:05"))
    huge["data"]["status_scan"] = "99999"
    old = _hook(world.teacher.nip, "1999-11-16 16:05")
    for body in (json.dumps(huge), old):
        refused = Client().post(
            f"/mesin/fingerspot/{secret}", body, content_type="application/json"
        )
        assert refused.status_code == 400
        assert refused.json()["error"].startswith("Data tidak valid")
    assert not CheckinEvent.objects.exists()


def test_the_flag_list_shows_only_the_users_opd(world: World, machine: Machine) -> None:
    machines.flag_raise(machine, "time_set", "OPLOG 21", now=NOW)
    own = login(Client(), world.users["operator_opd"]).get("/presensi/mesin/tanda/")
    other = login(Client(), world.users["operator_other"]).get("/presensi/mesin/tanda/")
    assert SERIAL.encode() in own.content
    assert SERIAL.encode() not in other.content


def test_the_operator_resolves_a_flag_and_maps_a_pin_from_the_page(
    world: World, machine: Machine
) -> None:
    flag = machines.flag_raise(machine, "time_set", "OPLOG 21", now=NOW)
    assert flag is not None
    client = login(Client(), world.users["operator_opd"])
    url = f"/presensi/mesin/{machine.pk}/"
    client.post(url, {"action": "resolve_flag", "flag": flag.pk, "reason": "Jam disetel"})
    client.post(url, {"action": "map_pin", "pin": "1452", "nip": world.teacher.nip})
    client.post(url, {"action": "map_pin", "pin": "1453", "nip": world.nurse.nip})
    flag.refresh_from_db()
    assert flag.resolved_by == world.users["operator_opd"]
    assert list(PinMapping.objects.values_list("pin", flat=True)) == ["1452"]


def test_an_auditor_reads_machines_but_changes_nothing(world: World, machine: Machine) -> None:
    client = login(Client(), world.users["auditor"])
    assert client.get(f"/presensi/mesin/{machine.pk}/").status_code == 200
    response = client.post(f"/presensi/mesin/{machine.pk}/", {"action": "retire", "reason": "x"})
    assert response.status_code == 403
    machine.refresh_from_db()
    assert machine.status == Machine.Status.ACTIVE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's")
def test_the_one_statement_path_stores_exactly_what_the_orm_path_stores(
    world: World, machine: Machine
) -> None:
    """The backlog's one-statement INSERT (punches_sql) and the ORM path it replaces on
    PostgreSQL, on the same batch and the same database state: the same punches, problems,
    ledger events (every column but ids) and report."""
    PinMapping.objects.create(machine=None, pin="7", employee=world.teacher2)
    PinMapping.objects.create(machine=machine, pin="7", employee=world.teacher)
    PinMapping.objects.create(machine=None, pin="8", employee=world.principal)
    machine.status_map = {"4": "out"}
    machine.last_ip = "203.0.113.9"
    machine.save()
    assert _push("8\t2026-11-16 07:00:00\t0\t1\t0\t0\t0") == b"OK:1"  # stored before
    text = "\n".join(
        [
            "7\t2026-11-16 07:01:00\t0\t1\t0\t0\t0",  # machine mapping wins
            "8\t2026-11-16 07:00:00\t0\t1\t0\t0\t0",  # already stored: a duplicate
            "8\t2026-11-16 16:00:00\t4\t15\t3\t0\t0",  # regency mapping; status 4 is "out" here
            f"{world.teacher2.nip}\t2026-11-17 07:03:00\t1\t1\t0\t0\t0",  # the NIP
            f"{world.teacher2.nip}\t2026-11-17 07:03:00\t1\t1\t0\t0\t0",  # twice in the batch
            "1452\t2026-11-17 07:04:00\t0\t1\t0\t0\t0",  # unmapped
            f"{world.nurse.nip}\t2026-11-17 07:05:00\t0\t1\t0\t0\t0",  # another OPD
            "bad line",
        ]
    )
    parsed, _bad = iclock.parse_attlog(text)

    def run(insert: Any) -> tuple[Any, ...]:
        with transaction.atomic():
            upload = punches.upload_store(
                machine=machine, source="push", table="ATTLOG", body=text.encode(),
                received_at=NOW,
            )  # fmt: skip
            monkey = pytest.MonkeyPatch()
            monkey.setattr(connection, "vendor", "postgresql" if insert == "sql" else "other")
            try:
                report = punches.punches_record(machine, upload, parsed, received_at=NOW, held=True)
            finally:
                monkey.undo()
            stored = list(
                MachinePunch.objects.filter(upload=upload)
                .order_by("id")
                .values(*(f.attname for f in MachinePunch._meta.concrete_fields
                          if f.attname not in ("id", "upload_id")))
            )  # fmt: skip
            events = list(
                CheckinEvent.objects.filter(idempotency_key__in=[p["key"] for p in stored])
                .order_by("id")
                .values(*(f.attname for f in CheckinEvent._meta.concrete_fields
                          if f.attname != "id"))
            )  # fmt: skip
            transaction.set_rollback(True)
        summary = (report.new, report.duplicates, report.unmapped, report.problems, report.days)
        return stored, events, summary

    orm, sql = run("orm"), run("sql")
    assert sql == orm
    stored, events, (new, duplicates, unmapped, _problems, days) = sql
    assert (new, duplicates, unmapped) == (5, 2, 2)
    assert [e["kind"] for e in events] == ["in", "out", "out"]
    assert {e["employee_id"] for e in events} == {world.teacher.pk, world.principal.pk,
                                                   world.teacher2.pk}  # fmt: skip
    assert all(e["status"] == "review" and e["payload"]["network"] for e in events)
    assert days == {(world.teacher.pk, date(2026, 11, 16)), (world.principal.pk,
                    date(2026, 11, 16)), (world.teacher2.pk, date(2026, 11, 17))}  # fmt: skip
    assert [p["problem"] for p in stored] == ["", "", "", "unmapped", "other_opd"]
