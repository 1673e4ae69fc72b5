"""A BKPSDM administrator manages accounts but can never raise privileges through the admin."""

from django.test import Client

from tepat.accounts.models import User
from tepat.audit.models import AuditEntry
from tests.world import World, login


def _change_form(user: User) -> dict[str, str]:
    return {
        "username": user.username,
        "role": user.role,
        "opd": str(user.opd_id or ""),
        "employee": str(user.employee_id or ""),
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }


def test_bkpsdm_cannot_make_itself_superuser(world: World) -> None:
    bkpsdm = world.users["admin_bkpsdm"]
    client = login(Client(), bkpsdm)
    form = {**_change_form(bkpsdm), "is_superuser": "on", "is_staff": "on"}
    client.post(f"/admin/accounts/user/{bkpsdm.pk}/change/", form)
    bkpsdm.refresh_from_db()
    assert not bkpsdm.is_superuser


def test_bkpsdm_cannot_promote_an_operator_to_superadmin(world: World) -> None:
    operator = world.users["operator_opd"]
    client = login(Client(), world.users["admin_bkpsdm"])
    form = {**_change_form(operator), "role": "superadmin", "opd": ""}
    response = client.post(f"/admin/accounts/user/{operator.pk}/change/", form)
    assert response.status_code == 403
    operator.refresh_from_db()
    assert operator.role == "operator_opd"
    assert not operator.is_superuser


def test_role_change_sets_admin_access_and_is_audited(world: World) -> None:
    operator = world.users["operator_opd"]
    client = login(Client(), world.users["admin_bkpsdm"])
    form = {**_change_form(operator), "role": "auditor", "opd": ""}
    response = client.post(f"/admin/accounts/user/{operator.pk}/change/", form)
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.role == "auditor"
    assert operator.is_staff
    assert not operator.is_superuser
    entry = AuditEntry.objects.get(action="user.change")
    assert entry.actor == world.users["admin_bkpsdm"]
    assert entry.after["role"] == "auditor"


def test_an_asn_account_without_an_employee_is_a_form_error(world: World) -> None:
    operator = world.users["operator_opd"]
    client = login(Client(), world.users["admin_bkpsdm"])
    form = {**_change_form(operator), "role": "asn", "opd": "", "employee": ""}
    response = client.post(f"/admin/accounts/user/{operator.pk}/change/", form)
    assert response.status_code == 200
    assert "Akun ASN harus terhubung dengan data pegawainya." in response.content.decode()
    operator.refresh_from_db()
    assert operator.role == "operator_opd"
