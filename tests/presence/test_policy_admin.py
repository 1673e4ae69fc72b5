"""BKPSDM edits schedules in the back office; the rules core validates every save."""

import json

from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.org.models import ScheduleGroup
from tepat.presence.models import ScheduleVersion
from tepat.rules.schedule import teacher_schedules
from tepat.rules.schedule_data import schedule_to_data
from tests.world import World, login


def _post(client: Client, definition: dict) -> object:
    group = ScheduleGroup.objects.get(code="guru")
    return client.post(
        "/admin/presence/scheduleversion/add/",
        {"group": group.pk, "definition": json.dumps(definition)},
    )


def test_a_valid_schedule_version_is_saved_and_audited(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = _post(client, schedule_to_data(teacher_schedules()[1]))
    assert response.status_code == 302  # type: ignore[attr-defined]
    version = ScheduleVersion.objects.get()
    assert version.name == teacher_schedules()[1].name
    assert AuditEntry.objects.filter(
        action="schedule.save", actor=world.users["admin_bkpsdm"]
    ).exists()


def test_a_broken_schedule_is_refused_with_an_indonesian_message(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    data = schedule_to_data(teacher_schedules()[1])
    data["week"] = data["week"][:5]
    response = _post(client, data)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "7 hari" in response.content.decode()  # type: ignore[attr-defined]
    assert not ScheduleVersion.objects.exists()


def test_an_auditor_cannot_change_schedules(world: World) -> None:
    client = login(Client(), world.users["auditor"])
    response = _post(client, schedule_to_data(teacher_schedules()[1]))
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not ScheduleVersion.objects.exists()


def test_a_new_leave_policy_version_takes_effect_without_a_deploy(world: World) -> None:
    from datetime import date

    from tepat.presence.absences import leave_policy_in_force
    from tepat.rules.leave import leave_policy_data

    data = leave_policy_data()
    data["valid_from"] = "2027-01-01"
    data["pending_expiry_days"] = 5
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.post(
        "/admin/presence/leavepolicyversion/add/", {"definition": json.dumps(data, default=str)}
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert leave_policy_in_force(date(2026, 12, 31)).pending_expiry_days == 3
    assert leave_policy_in_force(date(2027, 1, 4)).pending_expiry_days == 5


def test_a_broken_leave_policy_is_refused_with_its_place(world: World) -> None:
    from tepat.presence.models import LeavePolicyVersion
    from tepat.rules.leave import leave_policy_data

    data = leave_policy_data()
    data["types"]["cuti_besar"]["approval_levels"] = 4
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.post(
        "/admin/presence/leavepolicyversion/add/", {"definition": json.dumps(data, default=str)}
    )
    assert "types.cuti_besar.approval_levels: harus 1 atau 2" in response.content.decode()  # type: ignore[attr-defined]
    assert not LeavePolicyVersion.objects.exists()
