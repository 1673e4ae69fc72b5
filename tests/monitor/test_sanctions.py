"""The sanction actually decided: BKPSDM records the SK, which closes the alert it answers and
shows on the employee's discipline page; a mistake is corrected by a new record, never by
editing; and the TPP run reads, per month, the sanctions that cut it."""

from datetime import date

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.monitor import selectors
from tepat.monitor.models import AlertAction, DisciplineAlert, Sanction
from tepat.monitor.services import (
    SanctionDecision,
    discipline_alerts_run,
    sanction_correct,
    sanction_record,
)
from tepat.rules.tpp import SanctionInput
from tepat.rules.tpp_policy import policy_load
from tests.monitor.days import verdicts, working_days_until
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")

CUT_6 = SanctionDecision(
    kind="PEMOTONGAN_25_6_BULAN",
    decree_number="800/123/BKPSDM/2026",
    decided_on=date(2026, 11, 20),
    effective_from=date(2026, 12, 1),
)


@pytest.fixture
def alert(world: World) -> DisciplineAlert:
    verdicts(world.teacher2, working_days_until(TODAY, 3))
    discipline_alerts_run(today=TODAY)
    return DisciplineAlert.objects.get(employee=world.teacher2, threshold_code="TK_KUMULATIF_3")


def _form(**changes: object) -> dict[str, object]:
    data = {
        "kind": "TEGURAN_LISAN", "decree_number": "800/45/DINDIK/2026",
        "decided_on": "2026-11-20", "effective_from": "2026-11-20", "months": "", "note": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_bkpsdm_records_the_sk_which_closes_the_alert_and_shows_on_the_page(
    world: World, alert: DisciplineAlert
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    url = f"/pantau/disiplin/{world.teacher2.pk}/hukuman/"

    response = client.post(url, _form(alert=alert.pk))

    assert response.status_code == 302
    sanction = Sanction.objects.get(employee=world.teacher2)
    assert (sanction.kind, sanction.level, sanction.article) == (
        "TEGURAN_LISAN", "ringan", "PP 94/2021 Pasal 8 ayat (2) huruf a",
    )  # fmt: skip
    assert sanction.author == world.users["admin_bkpsdm"]
    assert sanction.opd == world.dindik
    alert.refresh_from_db()
    assert alert.status == DisciplineAlert.Status.CLOSED
    closing = alert.actions.get(kind=AlertAction.Kind.CLOSE)
    assert closing.note == "SK 800/45/DINDIK/2026 tanggal 20-11-2026: Teguran lisan"
    assert AuditEntry.objects.filter(action="sanction.record", object_id=str(sanction.pk)).exists()
    page = client.get(f"/pantau/disiplin/{world.teacher2.pk}/").content.decode()
    assert "800/45/DINDIK/2026" in page
    assert "Teguran lisan" in page


def test_the_alert_page_offers_bkpsdm_the_sanction_form_for_that_alert(
    world: World, alert: DisciplineAlert
) -> None:
    bkpsdm = login(Client(), world.users["admin_bkpsdm"]).get(f"/pantau/peringatan/{alert.pk}/")
    kepala = login(Client(), world.users["kepala_opd"]).get(f"/pantau/peringatan/{alert.pk}/")

    link = f"/pantau/disiplin/{world.teacher2.pk}/hukuman/?peringatan={alert.pk}"
    assert link in bkpsdm.content.decode()
    assert link not in kepala.content.decode()


def test_a_kepala_opd_cannot_record_a_sanction(world: World, alert: DisciplineAlert) -> None:
    client = login(Client(), world.users["kepala_opd"])

    response = client.post(f"/pantau/disiplin/{world.teacher2.pk}/hukuman/", _form())

    assert response.status_code == 404
    assert not Sanction.objects.exists()


def test_a_pppk_cannot_get_a_tunjangan_kinerja_cut(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.post(
        f"/pantau/disiplin/{world.teacher.pk}/hukuman/", _form(kind="PEMOTONGAN_25_6_BULAN")
    )

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert not Sanction.objects.exists()


def test_the_months_the_regulation_fixes_cannot_be_changed(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.post(
        f"/pantau/disiplin/{world.teacher2.pk}/hukuman/",
        _form(kind="PEMOTONGAN_25_6_BULAN", months="3"),
    )

    assert response.status_code == 400
    assert "PP 94/2021 Pasal 8 ayat (3) huruf a" in response.content.decode()
    assert not Sanction.objects.exists()


def test_a_decision_dated_tomorrow_is_refused(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.post(
        f"/pantau/disiplin/{world.teacher2.pk}/hukuman/", _form(decided_on="2026-11-24")
    )

    assert response.status_code == 400
    assert not Sanction.objects.exists()


def test_a_garbled_date_is_a_form_error_not_a_crash(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.post(
        f"/pantau/disiplin/{world.teacher2.pk}/hukuman/", _form(effective_from="20/13/2026")
    )

    assert response.status_code == 400


def test_a_correction_is_a_new_record_and_only_the_newest_counts(world: World) -> None:
    bkpsdm = world.users["admin_bkpsdm"]
    first = sanction_record(actor=bkpsdm, employee=world.teacher2, decision=CUT_6)
    client = login(Client(), bkpsdm)

    response = client.post(
        f"/pantau/hukuman/{first.pk}/koreksi/",
        _form(kind="PEMOTONGAN_25_9_BULAN", decree_number="800/124/BKPSDM/2026",
              effective_from="2026-12-01", reason="Salah ketik jenis hukuman pada SK"),
    )  # fmt: skip

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.kind == "PEMOTONGAN_25_6_BULAN"  # untouched
    second = Sanction.objects.get(corrects=first)
    assert (second.kind, second.months, second.note) == (
        "PEMOTONGAN_25_9_BULAN", 9, "Salah ketik jenis hukuman pada SK",
    )  # fmt: skip
    assert selectors.sanctions_in_force(2027, 8) == {
        world.teacher2.pk: [
            SanctionInput("PEMOTONGAN_25_9_BULAN", date(2026, 12, 1),
                          "SK 800/124/BKPSDM/2026 tanggal 20-11-2026")
        ]
    }  # fmt: skip
    again = client.post(
        f"/pantau/hukuman/{first.pk}/koreksi/", _form(reason="Koreksi lagi dari yang lama")
    )
    assert again.status_code == 400
    assert Sanction.objects.count() == 2


def test_an_annulled_sanction_cuts_nothing(world: World) -> None:
    bkpsdm = world.users["admin_bkpsdm"]
    first = sanction_record(actor=bkpsdm, employee=world.teacher2, decision=CUT_6)

    sanction_correct(
        actor=bkpsdm, sanction=first, decision=None, reason="SK dibatalkan atas banding"
    )

    assert selectors.sanctions_in_force(2026, 12) == {}
    page = login(Client(), bkpsdm).get(f"/pantau/disiplin/{world.teacher2.pk}/").content
    assert "SK dibatalkan atas banding" in page.decode()
    assert AuditEntry.objects.filter(action="sanction.annul").count() == 1


def test_a_six_month_cut_is_in_force_from_the_tmt_month_for_six_months(world: World) -> None:
    sanction_record(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher2,
        decision=SanctionDecision(**{**CUT_6.__dict__, "effective_from": date(2026, 9, 15)}),
    )

    in_force = {m: bool(selectors.sanctions_in_force(*m)) for m in
                [(2026, 8), (2026, 9), (2027, 2), (2027, 3)]}  # fmt: skip

    assert in_force == {(2026, 8): False, (2026, 9): True, (2027, 2): True, (2027, 3): False}


def test_the_tpp_run_can_ask_only_for_the_kinds_its_policy_cuts(world: World) -> None:
    bkpsdm = world.users["admin_bkpsdm"]
    sanction_record(actor=bkpsdm, employee=world.teacher2, decision=CUT_6)
    sanction_record(
        actor=bkpsdm,
        employee=world.nurse,
        decision=SanctionDecision("TEGURAN_TERTULIS", "800/9/DINKES/2026", date(2026, 11, 2),
                                  date(2026, 12, 1)),
    )  # fmt: skip
    codes = {t.code for t in policy_load("kaur_style").sanctions.types}

    everything = selectors.sanctions_in_force(2026, 12)
    cuts = selectors.sanctions_in_force(2026, 12, codes=codes)

    assert set(everything) == {world.teacher2.pk, world.nurse.pk}
    assert [s.code for s in cuts[world.teacher2.pk]] == ["PEMOTONGAN_25_6_BULAN"]
    assert world.nurse.pk not in cuts


def test_the_database_refuses_to_edit_a_recorded_sanction(world: World) -> None:
    sanction = sanction_record(actor=world.users["admin_bkpsdm"], employee=world.teacher2,
                               decision=CUT_6)  # fmt: skip

    with pytest.raises(DatabaseError), transaction.atomic():
        Sanction.objects.filter(pk=sanction.pk).update(decree_number="800/999/2026")

    sanction.refresh_from_db()
    assert sanction.decree_number == "800/123/BKPSDM/2026"
