"""Work-site locations: the boundary check flags misplaced sites, and an authorised user fixes
one — by hand or standing at the school with a phone — leaving history and an audit row."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.org import services
from tepat.org.models import Regency, WorkSite, WorkSiteLocationChange
from tests.world import World, login

DATA = Path(services.__file__).resolve().parent / "demo_data"

# SD Negeri 02 Lubuk Pinang: Dapodik puts it in another kecamatan (17.06.12);
# its desa's centre (from the address) is inside its own kecamatan 17.06.01.
DAPODIK_WRONG = (Decimal("-2.444900"), Decimal("101.208600"))
DESA_CENTRE = (Decimal("-2.448812"), Decimal("101.135554"))


@pytest.fixture
def regency(db: None) -> Regency:
    return Regency.objects.create(
        code="17.06",
        name="Kabupaten Mukomuko",
        timezone="Asia/Jakarta",
        boundary=json.loads((DATA / "mukomuko_kabupaten_boundary.geojson").read_text()),
        kecamatan_boundaries=json.loads(
            (DATA / "mukomuko_kecamatan_boundaries.geojson").read_text()
        ),
    )


def _place(site: WorkSite, lat: Decimal, lng: Decimal) -> None:
    site.latitude, site.longitude = lat, lng
    site.save()


def test_site_in_another_kecamatan_is_flagged_with_distance(world: World, regency: Regency) -> None:
    _place(world.school_site, *DAPODIK_WRONG)
    counts = services.worksites_quality_refresh()
    world.school_site.refresh_from_db()
    assert world.school_site.quality == WorkSite.Quality.OUTSIDE_KECAMATAN
    assert (world.school_site.quality_distance_m or 0) > 100
    assert "Lubuk Pinang" in world.school_site.quality_message
    assert counts[WorkSite.Quality.OUTSIDE_KECAMATAN] >= 1


def test_site_outside_the_regency_is_flagged(world: World, regency: Regency) -> None:
    _place(world.school_site, Decimal("-6.200000"), Decimal("106.816666"))  # Jakarta
    services.worksites_quality_refresh()
    world.school_site.refresh_from_db()
    assert world.school_site.quality == WorkSite.Quality.OUTSIDE_REGENCY
    assert world.school_site.quality_distance_m > 400_000


def test_bkpsdm_sees_the_flagged_list(world: World, regency: Regency) -> None:
    _place(world.school_site, *DAPODIK_WRONG)
    services.worksites_quality_refresh()
    page = login(Client(), world.users["admin_bkpsdm"]).get("/org/lokasi/").content.decode()
    assert world.school_site.name in page
    assert world.puskesmas_site.name not in page  # correctly placed: not in the list


def test_operator_fixes_a_site_from_the_phone(world: World, regency: Regency) -> None:
    _place(world.school_site, *DAPODIK_WRONG)
    services.worksites_quality_refresh()
    client = login(Client(), world.users["operator_opd"])
    response = client.post(
        f"/org/lokasi/{world.school_site.pk}/",
        {
            "latitude": str(DESA_CENTRE[0]),
            "longitude": str(DESA_CENTRE[1]),
            "accuracy_m": "12",
            "method": "phone",
            "reason": "Diukur di gerbang sekolah",
        },
    )
    assert response.status_code == 302
    site = WorkSite.objects.get(pk=world.school_site.pk)
    assert (site.latitude, site.longitude) == DESA_CENTRE
    assert site.quality == WorkSite.Quality.VERIFIED
    move = site.moves.get()
    assert (move.old_latitude, move.old_longitude) == DAPODIK_WRONG
    assert move.accuracy_m == 12
    assert move.author == world.users["operator_opd"]
    entry = AuditEntry.objects.get(action="worksite.relocate")
    assert entry.actor == world.users["operator_opd"]
    assert entry.before["latitude"] == str(DAPODIK_WRONG[0])
    assert entry.reason == "Diukur di gerbang sekolah"


def test_imprecise_phone_position_is_refused_and_nothing_moves(world: World) -> None:
    client = login(Client(), world.users["operator_opd"])
    response = client.post(
        f"/org/lokasi/{world.school_site.pk}/",
        {
            "latitude": "-2.4",
            "longitude": "101.1",
            "accuracy_m": "350",
            "method": "phone",
            "reason": "x",
        },
    )
    assert response.status_code == 400
    assert "terlalu" in response.content.decode()  # "…terlalu tidak akurat…" in Indonesian
    assert not WorkSiteLocationChange.objects.exists()
    world.school_site.refresh_from_db()
    assert world.school_site.latitude == Decimal("-2.423300")


def test_bad_coordinates_are_a_form_error_not_a_crash(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.post(
        f"/org/lokasi/{world.school_site.pk}/",
        {"latitude": "95", "longitude": "abc", "method": "map", "reason": "uji"},
    )
    assert response.status_code == 400
    assert not WorkSiteLocationChange.objects.exists()


def test_relocation_needs_a_reason(world: World) -> None:
    with pytest.raises(ValidationError):
        services.worksite_relocate(
            actor=world.users["admin_bkpsdm"],
            site=world.school_site,
            latitude=Decimal("-2.42"),
            longitude=Decimal("101.16"),
            method="map",
            reason="  ",
        )
    assert not WorkSiteLocationChange.objects.exists()


def test_auditor_cannot_move_a_site(world: World) -> None:
    client = login(Client(), world.users["auditor"])
    response = client.post(
        f"/org/lokasi/{world.school_site.pk}/",
        {"latitude": "-2.42", "longitude": "101.16", "method": "map", "reason": "uji"},
    )
    assert response.status_code == 403
    assert not WorkSiteLocationChange.objects.exists()


def test_every_units_sites_at_once_match_one_units(world: World) -> None:
    from tepat.org.models import Unit
    from tepat.org.selectors import sites_by_unit, unit_sites

    # A bidang without a site of its own uses the office's; an inactive site counts nowhere.
    bidang = Unit.objects.create(
        opd=world.school_site.unit.opd,
        parent=world.office_site.unit,
        code="DINDIK-BID-1",
        name="Bidang Pembinaan SD",
        kind="bidang",
    )
    WorkSite.objects.create(
        unit=bidang, name="Gudang lama", latitude=Decimal("-2.5"), longitude=Decimal("101.1"),
        active=False,
    )  # fmt: skip
    every = sites_by_unit()
    assert every == {unit.pk: unit_sites(unit.pk) for unit in Unit.objects.all()}
    assert every[bidang.pk] == [world.office_site]
    assert every[world.school_site.unit_id] == [world.office_site, world.school_site]
