import csv
import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import mapping, shape

from tepat.rules.sitecheck import (
    Boundaries,
    BoundaryError,
    SiteLocation,
    check_site,
    load_boundaries,
)

# The regency data ships with the demo (tepat/org/demo_data, sources in its SOURCE.md).
DATA = Path(__file__).resolve().parents[2] / "tepat" / "org" / "demo_data"
R = 6_371_008.8

# How the school CSV's own check (made against the detailed desa polygons) reads in our terms.
CSV_STATUS = {
    "ok_in_declared_kecamatan": "ok",
    "in_other_kecamatan": "outside_kecamatan",
    "outside_kabupaten": "outside_regency",
    "no_coords": "missing",
}


def _json(name: str) -> dict[str, Any]:
    with (DATA / name).open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _float(text: str) -> float | None:
    return float(text) if text else None


@pytest.fixture(scope="module")
def schools() -> list[dict[str, str]]:
    with (DATA / "mukomuko_sekolah_dapodik_2019.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def boundaries() -> Boundaries:
    """The coarse kecamatan polygons (12-48 vertices each) that Tepat ships."""
    return load_boundaries(
        _json("mukomuko_kabupaten_boundary.geojson"),
        _json("mukomuko_kecamatan_boundaries.geojson"),
        "kode",
    )


@pytest.fixture(scope="module")
def desa_boundaries() -> Boundaries:
    """Kecamatan polygons dissolved from the detailed desa polygons the CSV was checked with."""
    parts: dict[str, list[Any]] = {}
    for feature in _json("mukomuko_desa_boundaries.geojson")["features"]:
        code = feature["properties"]["kode_kecamatan"]
        parts.setdefault(code, []).append(shape(feature["geometry"]))
    kecamatan = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"kode": code, "nama": code},
                "geometry": mapping(shapely.union_all(polygons)),
            }
            for code, polygons in parts.items()
        ],
    }
    return load_boundaries(_json("mukomuko_kabupaten_boundary.geojson"), kecamatan, "kode")


def dapodik_point(row: dict[str, str]) -> SiteLocation:
    return SiteLocation(
        _float(row["lat_dapodik"]), _float(row["lng_dapodik"]), row["kode_kec_kemendagri"]
    )


def suggested_point(row: dict[str, str]) -> SiteLocation:
    return SiteLocation(
        _float(row["lat_suggested"]), _float(row["lng_suggested"]), row["kode_kec_kemendagri"]
    )


# --- the Dapodik 2019 school coordinates ----------------------------------------------------


def test_dapodik_points_agree_with_the_csv_check_row_by_row(
    boundaries: Boundaries, desa_boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    checks = {row["npsn"]: check_site(boundaries, dapodik_point(row)) for row in schools}
    disagreements = {
        row["npsn"]
        for row in schools
        if checks[row["npsn"]].status != CSV_STATUS[row["dapodik_coord_check"]]
    }

    # One school disagrees, and it is the polygons, not the check: SD Negeri 02 Teras Terunjam
    # lies a few hundred metres inside the coarse Teras Terunjam polygon but, on the detailed
    # desa polygons the CSV was checked with, in desa 17.06.09.2002 of Selagan Raya. Checked
    # against kecamatan dissolved from those desa polygons, it comes out as the CSV says.
    assert disagreements == {"10701396"}
    assert checks["10701396"].status == "ok"
    teras_terunjam_02 = next(row for row in schools if row["npsn"] == "10701396")
    detailed = check_site(desa_boundaries, dapodik_point(teras_terunjam_02))
    assert (detailed.status, detailed.found_kecamatan_code) == ("outside_kecamatan", "17.06.09")
    assert Counter(check.status for check in checks.values()) == {
        "ok": 100,
        "outside_kecamatan": 100,
        "outside_regency": 1,
        "missing": 3,
    }


def test_on_the_same_polygons_as_the_csv_every_row_agrees(
    desa_boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    statuses: Counter[str] = Counter()
    for row in schools:
        check = check_site(desa_boundaries, dapodik_point(row))
        statuses[check.status] += 1

        assert check.status == CSV_STATUS[row["dapodik_coord_check"]], row["npsn"]
        assert check.found_kecamatan_code == (row["desa_kode_at_dapodik_coord"][:8] or None)

    # SOURCE.md: 99 inside their own kecamatan, 101 in another, 1 abroad, 3 missing.
    assert statuses == {"ok": 99, "outside_kecamatan": 101, "outside_regency": 1, "missing": 3}


def test_the_suggested_coordinates_are_ok_except_five_known_near_misses(
    boundaries: Boundaries, desa_boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    coarse = {row["npsn"]: check_site(boundaries, suggested_point(row)) for row in schools}
    detailed = {row["npsn"]: check_site(desa_boundaries, suggested_point(row)) for row in schools}
    coarse_misses = {npsn for npsn, check in coarse.items() if check.status != "ok"}
    detailed_misses = {npsn for npsn, check in detailed.items() if check.status != "ok"}

    # Four schools were given the centroid of the desa named in their address, and for two
    # concave desa (Air Bikuk in Pondok Suguh, Sungai Lintang in V Koto) that centroid lies
    # outside the desa itself, and so outside the kecamatan, on any polygons.
    concave_desa_centroids = {"10701154", "10702729", "10701301", "10701313"}
    assert detailed_misses == concave_desa_centroids
    # The fifth, SDN 10 Ipuh, has the centroid of desa Air Buluh, which is inside the detailed
    # Ipuh but 163 m outside the coarse Ipuh polygon.
    assert coarse_misses == concave_desa_centroids | {"69881558"}
    assert sum(check.status == "ok" for check in coarse.values()) == 199
    for npsn in coarse_misses:
        distance = coarse[npsn].distance_m
        assert coarse[npsn].status == "outside_kecamatan"
        assert distance is not None
        assert 0 < distance < 1_000


def test_the_message_says_how_far_out_and_where_the_point_really_is(
    boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    row = next(row for row in schools if row["nama"] == "SD NEGERI 02 LUBUK PINANG")

    check = check_site(boundaries, dapodik_point(row))

    assert check.status == "outside_kecamatan"
    assert check.found_kecamatan_code == "17.06.12"
    assert check.message == "Di luar Kecamatan Lubuk Pinang (1,9 km), berada di Kecamatan V Koto"


def test_a_point_abroad_is_measured_to_the_regency(
    boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    row = next(row for row in schools if row["dapodik_coord_check"] == "outside_kabupaten")

    check = check_site(boundaries, dapodik_point(row))

    assert check.status == "outside_regency"
    assert check.found_kecamatan_code is None
    nearest_vertex = _brute_force_distance_m(boundaries.regency.shape, -2.6681, 2.3092)
    assert check.distance_m is not None
    assert 0.99 * nearest_vertex <= check.distance_m <= nearest_vertex
    assert check.message == "Di luar Kabupaten Mukomuko (10.961,5 km)"


def test_checking_every_school_point_is_fast(
    boundaries: Boundaries, schools: list[dict[str, str]]
) -> None:
    sites = [point(row) for row in schools for point in (dapodik_point, suggested_point)] * 3

    started = time.perf_counter()
    for site in sites:
        check_site(boundaries, site)
    elapsed = time.perf_counter() - started

    # ~1,200 checks take ~50 ms on a laptop; the bound only catches an unprepared or
    # quadratic implementation, not a slow CI machine.
    assert elapsed < 3


# --- statuses and messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "status", "message"),
    [
        (SiteLocation(None, None, "17.06.02"), "missing", "Koordinat belum diisi"),
        (SiteLocation(-2.57, None, "17.06.02"), "missing", "Koordinat belum diisi"),
        (SiteLocation(math.nan, 101.1, "17.06.02"), "missing", "Koordinat tidak valid"),
        (
            SiteLocation(101.148, -2.575, "17.06.02"),
            "missing",
            "Koordinat tidak valid: lintang dan bujur tampaknya tertukar",
        ),
        (SiteLocation(-2.575, 101.148, "17.06.99"), "unknown_kecamatan", None),
        (SiteLocation(-2.575, 101.148, "17.06.02"), "ok", "Di dalam Kecamatan Kota Mukomuko"),
        (
            SiteLocation(-2.575, 101.148, None),
            "ok",
            "Di dalam Kabupaten Mukomuko, Kecamatan Kota Mukomuko",
        ),
        (SiteLocation(-2.575, 101.148, ""), "ok", None),
        (SiteLocation(-3.8, 102.27, None), "outside_regency", None),
    ],
)
def test_each_status_comes_with_an_indonesian_message(
    boundaries: Boundaries, site: SiteLocation, status: str, message: str | None
) -> None:
    check = check_site(boundaries, site)

    assert check.status == status
    if message is not None:
        assert check.message == message
    if status == "unknown_kecamatan":
        assert check.message == "Kode kecamatan 17.06.99 tidak dikenal"
    if status in ("missing", "unknown_kecamatan"):
        assert (check.distance_m, check.found_kecamatan_code) == (None, None)


def test_a_point_on_a_shared_border_belongs_to_its_own_kecamatan_else_the_lowest_code(
    boundaries: Boundaries,
) -> None:
    # A vertex that the Lubuk Pinang (17.06.01) and V Koto (17.06.12) polygons share.
    lat, lng = -2.398162, 101.201703

    declared_v_koto = check_site(boundaries, SiteLocation(lat, lng, "17.06.12"))
    declared_ipuh = check_site(boundaries, SiteLocation(lat, lng, "17.06.05"))

    assert (declared_v_koto.status, declared_v_koto.found_kecamatan_code) == ("ok", "17.06.12")
    assert declared_ipuh.status == "outside_kecamatan"
    assert declared_ipuh.found_kecamatan_code == "17.06.01"


def test_a_wrong_code_property_is_refused_at_load_time() -> None:
    with pytest.raises(BoundaryError) as caught:
        load_boundaries(
            _json("mukomuko_kabupaten_boundary.geojson"),
            _json("mukomuko_kecamatan_boundaries.geojson"),
            "kode_kecamatan",
        )

    assert caught.value.message == "Batas kecamatan tanpa kode (kode_kecamatan) pada data"


def _lat_first(collection: dict[str, Any]) -> dict[str, Any]:
    feature = collection["features"][0]
    rings = [[[lat, lng] for lng, lat in ring] for ring in feature["geometry"]["coordinates"]]
    geometry = {"type": "Polygon", "coordinates": rings}
    return {"type": "FeatureCollection", "features": [{**feature, "geometry": geometry}]}


def test_boundaries_written_lat_first_are_refused() -> None:
    kecamatan = _json("mukomuko_kecamatan_boundaries.geojson")

    with pytest.raises(BoundaryError) as caught:
        load_boundaries(_json("mukomuko_kabupaten_boundary.geojson"), _lat_first(kecamatan), "kode")

    assert caught.value.message == "Geometri batas wilayah tidak valid"


@pytest.mark.parametrize(
    "kecamatan",
    [
        {"type": "FeatureCollection", "features": []},
        {"type": "Polygon", "coordinates": []},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kode": "17.06.01"},
                    "geometry": {"type": "Point", "coordinates": [101.1, -2.5]},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kode": "17.06.01"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[101, -2], [102, -3], [102, -2], [101, -3], [101, -2]]],
                    },
                }
            ],
        },
    ],
)
def test_unusable_boundary_data_is_refused(kecamatan: dict[str, Any]) -> None:
    with pytest.raises(BoundaryError):
        load_boundaries(_json("mukomuko_kabupaten_boundary.geojson"), kecamatan, "kode")


# --- distances against brute force ---------------------------------------------------------


def _brute_force_distance_m(geometry: Any, lat: float, lng: float) -> float:
    """Haversine to every point of the boundary, densified to <= ~11 m spacing."""
    dense = shapely.segmentize(geometry.boundary, max_segment_length=0.0001)
    lngs, lats = np.radians(shapely.get_coordinates(dense)).T
    phi, lam = math.radians(lat), math.radians(lng)
    h = np.sin((lats - phi) / 2) ** 2 + np.cos(phi) * np.cos(lats) * np.sin((lngs - lam) / 2) ** 2
    return float(2 * R * np.arcsin(np.sqrt(h.min())))


KECAMATAN_CODES = [f"17.06.{n:02d}" for n in range(1, 16)]


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(min_value=-3.6, max_value=-2.0),
    lng=st.floats(min_value=100.7, max_value=102.1),
    code=st.sampled_from(KECAMATAN_CODES),
)
def test_reported_distances_match_brute_force_within_half_a_percent(
    boundaries: Boundaries, lat: float, lng: float, code: str
) -> None:
    check = check_site(boundaries, SiteLocation(lat, lng, code))

    point = shapely.Point(lng, lat)
    assert check.status in ("ok", "outside_kecamatan", "outside_regency")
    if check.found_kecamatan_code is not None:
        assert boundaries.kecamatan[check.found_kecamatan_code].shape.covers(point)
    if check.status == "ok":
        assert check.distance_m == 0
        assert check.found_kecamatan_code == code
        return
    measured = boundaries.kecamatan[code] if check.status == "outside_kecamatan" else None
    geometry = measured.shape if measured else boundaries.regency.shape
    expected = _brute_force_distance_m(geometry, lat, lng)
    assert check.distance_m is not None
    # The brute force over-estimates by at most half the 11 m spacing.
    assert expected - 6 <= check.distance_m <= expected * 1.005 + 0.01
