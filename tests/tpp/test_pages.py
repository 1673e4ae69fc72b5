"""The e-TPP pages as people use them: BKPSDM starts a month and accepts it, each OPD sees its
own people, and every employee reads why their TPP is the amount it is."""

from datetime import date
from typing import Any

from django.test import Client

from tepat.accounts.models import Role, User
from tepat.tpp.models import TppRun
from tepat.tpp.services import tpp_run_accept, tpp_run_compute, tpp_run_start
from tests.tpp.months import MONTH, YEAR, month_store, world_month_store
from tests.world import World, login

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _accepted(world: World) -> TppRun:
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    run = tpp_run_start(actor=bkpsdm, year=YEAR, month=MONTH, enqueue=False)
    return tpp_run_accept(actor=bkpsdm, run=tpp_run_compute(run.pk))


def test_bkpsdm_starts_a_month_and_sees_it_computed_per_opd(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    world_month_store(world)
    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/tpp/mulai/", {"bulan": "2026-11"})
    run = TppRun.objects.get()
    assert response["Location"] == f"/tpp/run/{run.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Dinas Pendidikan dan Kebudayaan" in page
    assert "Dinas Kesehatan" in page
    assert "6 / 6" in page
    assert 'http-equiv="refresh"' not in page  # computed: no more reloading
    client.post(f"/tpp/run/{run.pk}/terima/")
    run.refresh_from_db()
    assert run.status == TppRun.Status.ACCEPTED


def test_a_queued_run_page_reloads_itself_to_show_progress(world: World) -> None:
    run = tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)
    page = login(Client(), world.users[Role.ADMIN_BKPSDM]).get(f"/tpp/run/{run.pk}/")
    assert 'http-equiv="refresh"' in page.content.decode()


def test_a_bad_month_is_a_message_not_an_error(world: World) -> None:
    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    response = client.post("/tpp/mulai/", {"bulan": "bulan lalu"}, follow=True)
    assert response.status_code == 200
    assert not TppRun.objects.exists()


def test_an_opd_operator_sees_only_their_opds_totals_and_people(world: World) -> None:
    world_month_store(world)
    run = _accepted(world)
    client = login(Client(), world.users["operator_other"])
    page = client.get(f"/tpp/run/{run.pk}/").content.decode()
    assert "Dinas Kesehatan" in page
    assert "Dinas Pendidikan" not in page
    people = client.get(f"/tpp/run/{run.pk}/opd/{world.dinkes.pk}/").content.decode()
    assert world.nurse.name in people
    assert world.teacher.name not in people
    assert client.get(f"/tpp/run/{run.pk}/opd/{world.dindik.pk}/").status_code == 404


def test_my_tpp_explains_the_amount_line_by_line(world: World) -> None:
    world_month_store(world, teacher2={"days": {date(2026, 11, 4): {"minutes_late": 45}}})
    _accepted(world)
    teacher2 = world.teacher2
    user = User.objects.create(username=teacher2.nip, role=Role.ASN, employee=teacher2)
    page = login(Client(), user).get("/tpp/saya/").content.decode()
    assert "4.531.001" in page.split("TPP bersih")[0]  # the summary table, before the lines
    assert "04-11-2026 TL2: 1% × Rp 1.838.060 (porsi disiplin) = Rp 18.380,60" in page
    assert "Perbup Kaur 03/2022 Pasal 9 ayat (3)" in page
    assert "kaur_style" in page
    assert "tpp-1" in page
    assert "TPP bersih: Rp 4.576.769 − Rp 45.768 = Rp 4.531.001" in page


def test_my_tpp_shows_only_accepted_months(world: World) -> None:
    world_month_store(world)
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    run = tpp_run_start(actor=bkpsdm, year=YEAR, month=MONTH, enqueue=False)
    tpp_run_compute(run.pk)
    page = login(Client(), world.users[Role.ASN]).get("/tpp/saya/").content.decode()
    assert "TPP bersih" not in page


def test_a_recompute_page_lists_the_changed_person_before_acceptance(world: World) -> None:
    world_month_store(world)
    _accepted(world)
    month_store(world.teacher2, days={date(2026, 11, 4): {"minutes_late": 45}})
    bkpsdm = world.users[Role.ADMIN_BKPSDM]
    recompute = tpp_run_compute(
        tpp_run_start(actor=bkpsdm, year=YEAR, month=MONTH, enqueue=False).pk
    )
    page = login(Client(), bkpsdm).get(f"/tpp/run/{recompute.pk}/").content.decode()
    assert f'id="change-{world.teacher2.pk}"' in page
    assert f'id="change-{world.teacher.pk}"' not in page
    assert "04-11-2026 TL2" in page
