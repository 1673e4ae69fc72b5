import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tepat.rules.formatting import format_distance, format_number
from tepat.rules.geofence import (
    CircleFence,
    FencePolicy,
    GeofenceError,
    Point,
    PolygonFence,
    Site,
    check_position,
    distance_m,
    fence_distance_m,
    polygon_from_geojson,
)

R = 6_371_008.8
KOTA_MUKOMUKO = Point(lat=-2.5749, lng=101.1483)
STRICT = FencePolicy(max_accuracy_m=50, accuracy_tolerance="none")
LENIENT = FencePolicy(max_accuracy_m=50, accuracy_tolerance="subtract")


def destination(start: Point, bearing_deg: float, metres: float) -> Point:
    """The point `metres` along the great circle leaving `start` at `bearing_deg`."""
    phi1, lambda1 = math.radians(start.lat), math.radians(start.lng)
    theta, delta = math.radians(bearing_deg), metres / R
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return Point(lat=math.degrees(phi2), lng=math.degrees(lambda2))


def offset(centre: Point, east_m: float, north_m: float) -> Point:
    """A point east/north of `centre` in its equirectangular frame (lng/lat lines stay straight)."""
    return Point(
        lat=centre.lat + math.degrees(north_m / R),
        lng=centre.lng + math.degrees(east_m / (R * math.cos(math.radians(centre.lat)))),
    )


def square(centre: Point, half_side_m: float) -> tuple[Point, ...]:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    return tuple(offset(centre, x * half_side_m, y * half_side_m) for x, y in corners)


def circle_site(site_id: int, name: str, centre: Point, radius_m: float) -> Site:
    return Site(site_id=site_id, name=name, fence=CircleFence(centre=centre, radius_m=radius_m))


indonesia = st.builds(
    Point,
    lat=st.floats(min_value=-11, max_value=6),
    lng=st.floats(min_value=95, max_value=141),
)
equator = st.builds(
    Point,
    lat=st.floats(min_value=-1, max_value=1),
    lng=st.floats(min_value=95, max_value=141),
)
anywhere_in_range = indonesia | equator
bearings = st.floats(min_value=0, max_value=360, exclude_max=True)


# --- distances ----------------------------------------------------------------------------


def test_distance_matches_arcs_of_the_mean_earth_sphere() -> None:
    one_degree = R * math.pi / 180

    assert distance_m(Point(0, 100), Point(1, 100)) == pytest.approx(one_degree)
    assert distance_m(Point(0, 0), Point(0, 90)) == pytest.approx(R * math.pi / 2)
    assert distance_m(Point(0, 0), Point(0, 180)) == pytest.approx(R * math.pi)
    assert distance_m(KOTA_MUKOMUKO, KOTA_MUKOMUKO) == 0


@given(anywhere_in_range, anywhere_in_range)
def test_distance_is_symmetric_and_non_negative(a: Point, b: Point) -> None:
    assert distance_m(a, b) >= 0
    assert distance_m(a, b) == pytest.approx(distance_m(b, a), abs=1e-6)


@given(anywhere_in_range, anywhere_in_range, anywhere_in_range)
def test_distance_obeys_the_triangle_inequality(a: Point, b: Point, c: Point) -> None:
    assert distance_m(a, c) <= distance_m(a, b) + distance_m(b, c) + 1e-6


@given(anywhere_in_range, bearings, st.floats(min_value=0, max_value=50_000))
def test_distance_to_a_point_at_a_known_range_is_that_range(
    start: Point, bearing: float, metres: float
) -> None:
    assert distance_m(start, destination(start, bearing, metres)) == pytest.approx(metres, abs=0.01)


# --- circles ------------------------------------------------------------------------------


@given(anywhere_in_range, st.floats(min_value=1, max_value=10_000))
def test_the_centre_of_a_circle_is_inside(centre: Point, radius: float) -> None:
    verdict = check_position([circle_site(1, "Kantor", centre, radius)], centre, 5, STRICT)

    assert verdict.inside
    assert verdict.distance_m == 0


@given(anywhere_in_range, bearings, st.floats(min_value=5, max_value=5_000))
def test_a_metre_either_side_of_a_circle_classifies_correctly(
    centre: Point, bearing: float, radius: float
) -> None:
    site = circle_site(1, "Kantor", centre, radius)
    just_in = destination(centre, bearing, radius - 1)
    just_out = destination(centre, bearing, radius + 1)

    assert check_position([site], just_in, 0, STRICT).inside
    outside = check_position([site], just_out, 0, STRICT)
    assert not outside.inside
    assert outside.distance_m == pytest.approx(1, abs=0.01)


def test_the_outside_message_names_the_nearest_site_in_indonesian_numbers() -> None:
    sites = [
        circle_site(1, "SD Negeri 01 Kota Mukomuko", KOTA_MUKOMUKO, 100),
        circle_site(2, "SD Negeri 09 Kota Mukomuko", destination(KOTA_MUKOMUKO, 180, 5_000), 100),
    ]

    far = check_position(sites, destination(KOTA_MUKOMUKO, 0, 1_230), 10, STRICT)
    near = check_position(sites, destination(KOTA_MUKOMUKO, 0, 849.3), 10, STRICT)

    assert far.message == "Anda berada 1,2 km dari SD Negeri 01 Kota Mukomuko; batas 100 m"
    assert (far.inside, far.site_id, far.site_name) == (False, 1, "SD Negeri 01 Kota Mukomuko")
    assert far.distance_m == pytest.approx(1_130, abs=0.01)
    assert near.message == "Anda berada 850 m dari SD Negeri 01 Kota Mukomuko; batas 100 m"


def test_a_position_just_past_the_radius_never_reads_as_on_the_limit() -> None:
    site = circle_site(1, "Puskesmas Ipuh", KOTA_MUKOMUKO, 100)

    verdict = check_position([site], destination(KOTA_MUKOMUKO, 90, 100.2), 0, STRICT)

    assert verdict.message == "Anda berada 101 m dari Puskesmas Ipuh; batas 100 m"


def test_no_registered_site_is_a_refusal() -> None:
    verdict = check_position([], KOTA_MUKOMUKO, 5, STRICT)

    assert not verdict.inside
    assert verdict.site_id is None
    assert verdict.message == "Tidak ada lokasi kerja yang terdaftar untuk Anda"


def test_overlapping_sites_resolve_to_the_nearest_centre_then_the_lowest_id() -> None:
    east = destination(KOTA_MUKOMUKO, 90, 60)
    sites = [
        circle_site(1, "Kantor Dinas", KOTA_MUKOMUKO, 200),
        circle_site(2, "Gudang Dinas", east, 200),
    ]
    twins = [
        circle_site(7, "Aula B", KOTA_MUKOMUKO, 200),
        circle_site(3, "Aula A", KOTA_MUKOMUKO, 200),
    ]

    near_east = check_position(sites, destination(KOTA_MUKOMUKO, 90, 50), 5, STRICT)
    tie = check_position(twins, KOTA_MUKOMUKO, 5, STRICT)

    assert (near_east.inside, near_east.site_id) == (True, 2)
    assert near_east.message == "Anda berada di lokasi Gudang Dinas"
    assert (tie.site_id, tie.site_name) == (3, "Aula A")


def test_when_outside_every_site_the_verdict_names_the_nearest_fence() -> None:
    sites = [
        circle_site(1, "Kantor Camat", KOTA_MUKOMUKO, 50),
        circle_site(2, "Balai Desa", destination(KOTA_MUKOMUKO, 0, 3_000), 50),
    ]

    verdict = check_position(sites, destination(KOTA_MUKOMUKO, 0, 2_000), 5, STRICT)

    assert (verdict.inside, verdict.site_id) == (False, 2)
    assert verdict.distance_m == pytest.approx(950, abs=0.01)


# --- accuracy -----------------------------------------------------------------------------


def test_subtract_accepts_a_fix_whose_accuracy_circle_reaches_the_fence() -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)
    position = destination(KOTA_MUKOMUKO, 45, 119.6)

    verdict = check_position([site], position, 30, LENIENT)

    assert verdict.inside
    assert verdict.accuracy_ok
    assert verdict.distance_m == pytest.approx(19.6, abs=0.01)
    assert verdict.message == (
        "Anda berada 20 m di luar batas SD Negeri 05 Ipuh, masih dalam akurasi GPS (±30 m)"
    )


def test_subtract_refuses_a_fix_further_out_than_its_accuracy() -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)

    verdict = check_position([site], destination(KOTA_MUKOMUKO, 45, 140), 30, LENIENT)

    assert not verdict.inside
    assert verdict.accuracy_ok


def test_subtract_gives_no_benefit_of_the_doubt_to_a_poor_fix() -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)

    verdict = check_position([site], destination(KOTA_MUKOMUKO, 45, 120), 60, LENIENT)

    assert not verdict.inside
    assert not verdict.accuracy_ok
    assert verdict.message == (
        "Akurasi GPS terlalu rendah (±60 m; paling besar 50 m). Coba lagi di tempat terbuka"
    )


def test_none_ignores_accuracy_when_deciding_the_edge() -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)

    verdict = check_position([site], destination(KOTA_MUKOMUKO, 45, 120), 30, STRICT)

    assert not verdict.inside
    assert verdict.accuracy_ok


@pytest.mark.parametrize("policy", [STRICT, LENIENT])
def test_a_fix_worse_than_the_limit_is_refused_even_at_the_centre(policy: FencePolicy) -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)

    at_limit = check_position([site], KOTA_MUKOMUKO, 50, policy)
    too_poor = check_position([site], KOTA_MUKOMUKO, 50.5, policy)

    assert at_limit.inside
    assert not too_poor.inside
    assert not too_poor.accuracy_ok
    assert too_poor.site_id == 1


@pytest.mark.parametrize("accuracy", [math.nan, math.inf, -1.0, True])
def test_a_meaningless_accuracy_is_an_error_not_a_verdict(accuracy: Any) -> None:
    site = circle_site(1, "SD Negeri 05 Ipuh", KOTA_MUKOMUKO, 100)

    with pytest.raises(GeofenceError) as caught:
        check_position([site], KOTA_MUKOMUKO, accuracy, LENIENT)

    assert caught.value.message == "Akurasi lokasi tidak valid"


# --- fail-closed input checks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (90.0001, 0),
        (-90.0001, 0),
        (0, 180.0001),
        (0, -180.0001),
        (math.nan, 101),
        (-2.5, math.inf),
        (True, 101),
        ("-2.5", 101),
        (None, 101),
    ],
)
def test_impossible_coordinates_are_refused(lat: Any, lng: Any) -> None:
    with pytest.raises(GeofenceError) as caught:
        Point(lat=lat, lng=lng)

    assert caught.value.message == "Koordinat tidak valid"


@pytest.mark.parametrize(("lat", "lng"), [(90, 180), (-90, -180), (0, 0), (-2.5749, 101.1483)])
def test_every_real_coordinate_is_accepted(lat: float, lng: float) -> None:
    assert (Point(lat=lat, lng=lng).lat, Point(lat=lat, lng=lng).lng) == (lat, lng)


@pytest.mark.parametrize("radius", [0, -5, math.nan, math.inf])
def test_a_circle_needs_a_positive_radius(radius: float) -> None:
    with pytest.raises(GeofenceError):
        CircleFence(centre=KOTA_MUKOMUKO, radius_m=radius)


@pytest.mark.parametrize(
    ("max_accuracy", "tolerance"), [(0, "none"), (math.nan, "none"), (50, "generous")]
)
def test_a_policy_must_make_sense(max_accuracy: float, tolerance: Any) -> None:
    with pytest.raises(GeofenceError):
        FencePolicy(max_accuracy_m=max_accuracy, accuracy_tolerance=tolerance)


@given(
    lat=st.floats(),
    lng=st.floats(),
    accuracy=st.floats(),
    radius=st.floats(),
    policy=st.sampled_from([STRICT, LENIENT]),
)
def test_bad_input_never_lets_a_punch_through(
    lat: float, lng: float, accuracy: float, radius: float, policy: FencePolicy
) -> None:
    try:
        site = circle_site(1, "Kantor", KOTA_MUKOMUKO, radius)
        position = Point(lat=lat, lng=lng)
        verdict = check_position([site], position, accuracy, policy)
    except GeofenceError:
        return

    if verdict.inside:
        assert all(map(math.isfinite, (lat, lng, accuracy, radius)))
        assert 0 <= accuracy <= policy.max_accuracy_m
        allowance = accuracy if policy.accuracy_tolerance == "subtract" else 0
        assert distance_m(KOTA_MUKOMUKO, position) <= radius + allowance + 1e-6


# --- polygons -----------------------------------------------------------------------------


def geojson_polygon(*rings: tuple[Point, ...]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[p.lng, p.lat] for p in ring] for ring in rings]}


@given(anywhere_in_range, bearings, st.floats(min_value=0, max_value=98))
def test_points_well_inside_a_200_m_square_are_inside(
    centre: Point, bearing: float, metres: float
) -> None:
    fence = polygon_from_geojson(geojson_polygon(square(centre, 100)))
    site = Site(site_id=1, name="Kantor Bupati", fence=fence)

    verdict = check_position([site], destination(centre, bearing, metres), 0, STRICT)

    assert verdict.inside
    assert verdict.distance_m == 0


@given(
    anywhere_in_range,
    st.floats(min_value=-5_000, max_value=5_000),
    st.floats(min_value=-5_000, max_value=5_000),
)
def test_points_outside_a_200_m_square_are_outside_at_the_right_distance(
    centre: Point, east: float, north: float
) -> None:
    assume(max(abs(east), abs(north)) >= 101)
    fence = polygon_from_geojson(geojson_polygon(square(centre, 100)))
    expected = math.hypot(max(abs(east) - 100, 0), max(abs(north) - 100, 0))

    position = offset(centre, east, north)
    verdict = check_position([Site(1, "Kantor Bupati", fence)], position, 0, STRICT)

    assert not verdict.inside
    assert fence_distance_m(fence, position) == pytest.approx(expected, rel=0.01, abs=0.001)


@given(
    st.builds(Point, lat=st.floats(min_value=-60, max_value=60), lng=st.floats(-179, 179)),
    st.floats(min_value=-5_000, max_value=5_000),
    st.floats(min_value=-5_000, max_value=5_000),
)
def test_slanted_edges_are_measured_right_away_from_the_equator_too(
    centre: Point, east: float, north: float
) -> None:
    # A diamond |x| + |y| <= 100 m: every edge is at 45°, where a projection that forgot to
    # shrink longitude by cos(lat) would pick the wrong nearest point.
    corners = [(100, 0), (0, 100), (-100, 0), (0, -100), (100, 0)]
    diamond = tuple(offset(centre, x, y) for x, y in corners)
    fence = polygon_from_geojson(geojson_polygon(diamond))
    assume(abs(east) + abs(north) >= 102)
    u, v = abs(east + north) / math.sqrt(2), abs(north - east) / math.sqrt(2)
    half = 100 / math.sqrt(2)
    expected = math.hypot(max(u - half, 0), max(v - half, 0))

    distance = fence_distance_m(fence, offset(centre, east, north))

    assert distance == pytest.approx(expected, rel=0.01, abs=0.001)


def test_the_polygon_outside_message_says_outside_the_area() -> None:
    fence = polygon_from_geojson(geojson_polygon(square(KOTA_MUKOMUKO, 100)))

    verdict = check_position(
        [Site(4, "Kantor Bupati Mukomuko", fence)], offset(KOTA_MUKOMUKO, 0, 149.6), 5, STRICT
    )

    assert verdict.message == "Anda berada 50 m dari Kantor Bupati Mukomuko; di luar batas area"


@given(
    anywhere_in_range,
    st.floats(min_value=-99, max_value=99),
    st.floats(min_value=-99, max_value=99),
)
def test_a_hole_is_outside_the_fence(centre: Point, east: float, north: float) -> None:
    fence = polygon_from_geojson(geojson_polygon(square(centre, 100), square(centre, 40)))
    position = offset(centre, east, north)
    depth_in_hole = 40 - max(abs(east), abs(north))
    assume(abs(depth_in_hole) >= 1)

    verdict = check_position([Site(1, "Lapangan", fence)], position, 0, STRICT)

    assert verdict.inside is (depth_in_hole < 0)
    if depth_in_hole > 0:
        assert verdict.distance_m == pytest.approx(depth_in_hole, rel=0.01, abs=0.001)


def test_a_single_part_multipolygon_is_the_same_fence_as_its_polygon() -> None:
    ring = square(KOTA_MUKOMUKO, 100)
    polygon = geojson_polygon(ring)

    multi = polygon_from_geojson({"type": "MultiPolygon", "coordinates": [polygon["coordinates"]]})

    assert multi == polygon_from_geojson(polygon) == PolygonFence(rings=(ring,))


def _bowtie() -> list[list[float]]:
    a, b = KOTA_MUKOMUKO, destination(KOTA_MUKOMUKO, 45, 300)
    return [[a.lng, a.lat], [b.lng, b.lat], [b.lng, a.lat], [a.lng, b.lat], [a.lng, a.lat]]


def _ring() -> list[list[float]]:
    return [[p.lng, p.lat] for p in square(KOTA_MUKOMUKO, 100)]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [101.1, -2.5]},
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [_ring()[:-1]]},  # not closed
        {"type": "Polygon", "coordinates": [_ring()[:2] + _ring()[:1]]},  # too few points
        {"type": "Polygon", "coordinates": [[[lat, lng] for lng, lat in _ring()]]},  # lat first
        {"type": "Polygon", "coordinates": [_bowtie()]},  # self-intersecting
        {"type": "Polygon", "coordinates": [[["101.1", "-2.5"]] * 4]},
        {"type": "Polygon", "coordinates": [[[101.1, -2.5, 0, 0]] * 4]},
        {"type": "MultiPolygon", "coordinates": [[_ring()], [_ring()]]},
        {
            "type": "Polygon",
            "coordinates": [
                [[p.lng, p.lat] for p in square(KOTA_MUKOMUKO, 50)],
                _ring(),  # the "hole" is bigger than the outer ring
            ],
        },
        "POLYGON ((101 -2, 102 -2, 102 -3, 101 -2))",
    ],
)
def test_invalid_geometry_is_refused(geometry: Any) -> None:
    with pytest.raises(GeofenceError):
        polygon_from_geojson(geometry)


# --- Indonesian number formatting ---------------------------------------------------------


@pytest.mark.parametrize(
    ("metres", "text"),
    [
        (0, "0 m"),
        (849.4, "849 m"),
        (999.4, "999 m"),
        (999.6, "1,0 km"),
        (1_234, "1,2 km"),
        (12_345.6, "12,3 km"),
        (10_961_478.6, "10.961,5 km"),
    ],
)
def test_distances_read_the_indonesian_way(metres: float, text: str) -> None:
    assert format_distance(metres) == text


def test_rounding_up_never_shows_a_distance_shorter_than_it_is() -> None:
    assert format_distance(100.2, round_up=True) == "101 m"
    assert format_distance(0.3, round_up=True) == "1 m"
    assert format_distance(999.2, round_up=True) == "1,0 km"


def test_numbers_use_a_decimal_comma_and_dotted_thousands() -> None:
    assert format_number(1_234_567.891, 2) == "1.234.567,89"
    assert format_number(12.5, 1) == "12,5"
    assert format_number(850) == "850"
