"""The payment request pages as the OPD and BKPSDM use them."""

from django.test import Client
from django.utils import translation

from tepat.accounts.models import Role
from tepat.tpp.models import TppSubmission
from tests.tpp.months import world_month_store
from tests.tpp.test_submissions import accepted_run
from tests.world import World, login


def _shown(msgid: str) -> str:
    """A message as the pages show it (in Indonesian once it is translated)."""
    with translation.override("id"):
        return translation.gettext(msgid)


def test_the_operator_prepares_and_the_head_of_opd_approves_on_the_page(world: World) -> None:
    world_month_store(world)
    accepted_run(world)
    operator = login(Client(), world.users[Role.OPERATOR_OPD])
    response = operator.post("/tpp/pengajuan/buka/", {"bulan": "2026-11"})
    submission = TppSubmission.objects.get()
    assert submission.opd == world.dindik
    assert response["Location"] == f"/tpp/pengajuan/{submission.pk}/"
    page = operator.get(response["Location"]).content.decode()
    assert world.teacher2.full_name in page
    assert world.nurse.full_name not in page
    operator.post(f"/tpp/pengajuan/{submission.pk}/langkah/siap/", {"catatan": "Sudah dicek"})
    # The operator cannot also approve.
    assert operator.post(f"/tpp/pengajuan/{submission.pk}/langkah/setujui/").status_code == 403
    head = login(Client(), world.users[Role.KEPALA_OPD])
    head.post(f"/tpp/pengajuan/{submission.pk}/langkah/setujui/", {"catatan": "Setuju"})
    submission.refresh_from_db()
    assert submission.status == TppSubmission.Status.APPROVED
    page = head.get(f"/tpp/pengajuan/{submission.pk}/").content.decode()
    assert "Sudah dicek" in page
    assert "Setuju" in page
    assert _shown("Locked since") in page


def test_a_return_without_a_reason_is_a_message(world: World) -> None:
    world_month_store(world)
    accepted_run(world)
    operator = login(Client(), world.users[Role.OPERATOR_OPD])
    operator.post("/tpp/pengajuan/buka/", {"bulan": "2026-11"})
    submission = TppSubmission.objects.get()
    operator.post(f"/tpp/pengajuan/{submission.pk}/langkah/siap/")
    head = login(Client(), world.users[Role.KEPALA_OPD])
    response = head.post(f"/tpp/pengajuan/{submission.pk}/langkah/kembalikan/", follow=True)
    assert _shown("Say why the payment request is returned.") in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == TppSubmission.Status.READY


def test_a_month_without_an_accepted_run_is_a_message(world: World) -> None:
    operator = login(Client(), world.users[Role.OPERATOR_OPD])
    response = operator.post("/tpp/pengajuan/buka/", {"bulan": "2026-11"}, follow=True)
    assert response.status_code == 200
    expected = _shown(
        "%(month)s has no accepted TPP run yet: BKPSDM computes and accepts it first."
    ) % {"month": "November 2026"}
    assert expected in response.content.decode()
    response = operator.post("/tpp/pengajuan/buka/", {"bulan": "bukan-bulan"}, follow=True)
    assert _shown("Month must be given as YYYY-MM.") in response.content.decode()


def test_another_opds_operator_cannot_open_dindiks_request(world: World) -> None:
    world_month_store(world)
    accepted_run(world)
    other = login(Client(), world.users["operator_other"])
    response = other.post("/tpp/pengajuan/buka/", {"bulan": "2026-11", "opd": world.dindik.pk})
    assert response.status_code == 404
    assert not TppSubmission.objects.exists()
