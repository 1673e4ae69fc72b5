"""Server-side geofence: is a reported position at one of the employee's work sites?

Fail-closed by construction: bad coordinates, a bad accuracy figure or a bad fence raise
`GeofenceError`; nothing here catches an error and answers "inside". A caller that gets an
exception must refuse (or queue for review) the punch, never accept it.

Distances:

* point to point: haversine on the mean Earth radius (IUGG R1 = 6,371,008.8 m). Against the
  WGS84 ellipsoid this is within about 0.5%, far below GPS noise at fence scale.
* point to polygon: the polygon is projected equirectangularly about the point itself
  (x = R·cos(lat0)·Δlng, y = R·Δlat), the nearest point of the polygon is found in that plane,
  and the distance to it is then measured with haversine. The projection is affine in
  (lng, lat), so straight GeoJSON edges stay straight and inside/outside is exactly the planar
  answer in lng/lat. Only the choice of nearest point is approximate: at Indonesian latitudes
  (|lat| <= 11°) that costs < 0.5% for fences under ~50 km across. Not meant for polar fences
  or fences that cross the antimeridian; Indonesia has neither.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import shapely  # type: ignore[import-untyped, unused-ignore]
from shapely.affinity import affine_transform  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry import Point as ShapelyPoint  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry import Polygon  # type: ignore[import-untyped, unused-ignore]
from shapely.ops import nearest_points  # type: ignore[import-untyped, unused-ignore]

from tepat.rules.formatting import format_distance

EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180

AccuracyTolerance = Literal["none", "subtract"]


class GeofenceError(ValueError):
    """Input the geofence cannot judge. `message` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float

    def __post_init__(self) -> None:
        if not (
            _is_finite_number(self.lat)
            and _is_finite_number(self.lng)
            and -90 <= self.lat <= 90
            and -180 <= self.lng <= 180
        ):
            raise GeofenceError("Koordinat tidak valid")


@dataclass(frozen=True)
class CircleFence:
    centre: Point
    radius_m: float

    def __post_init__(self) -> None:
        if not (_is_finite_number(self.radius_m) and self.radius_m > 0):
            raise GeofenceError("Radius lokasi tidak valid")


@dataclass(frozen=True)
class PolygonFence:
    """One polygon: the outer ring first, then any holes. Each ring is closed (last == first)."""

    rings: tuple[tuple[Point, ...], ...]
    _shape: Any = field(init=False, repr=False, compare=False)
    _centroid: Point = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        invalid = GeofenceError("Batas area lokasi tidak valid")
        try:
            rings = tuple(tuple(ring) for ring in self.rings)
        except TypeError:
            raise invalid from None
        if not rings:
            raise invalid
        for ring in rings:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise invalid
            if not all(isinstance(p, Point) for p in ring):
                raise invalid
        lnglat = [[(p.lng, p.lat) for p in ring] for ring in rings]
        try:
            shape = Polygon(lnglat[0], lnglat[1:])
            valid = bool(shape.is_valid) and float(shape.area) > 0
        except (ValueError, shapely.errors.GEOSException):
            raise invalid from None
        if not valid:
            raise invalid
        shapely.prepare(shape)
        centroid = shape.centroid
        object.__setattr__(self, "rings", rings)
        object.__setattr__(self, "_shape", shape)
        object.__setattr__(self, "_centroid", Point(lat=centroid.y, lng=centroid.x))


Fence = CircleFence | PolygonFence


@dataclass(frozen=True)
class Site:
    site_id: int
    name: str
    fence: Fence


@dataclass(frozen=True)
class FencePolicy:
    """How GPS accuracy (metres, 95% confidence radius as reported by the browser) is used.

    A fix less accurate than `max_accuracy_m` is never accepted. With "subtract", a fix counts
    as inside when its distance to the fence is within its accuracy, i.e. the true position
    may be inside; with "none" the reported point itself must be inside.
    """

    max_accuracy_m: float
    accuracy_tolerance: AccuracyTolerance

    def __post_init__(self) -> None:
        if not (_is_finite_number(self.max_accuracy_m) and self.max_accuracy_m > 0):
            raise GeofenceError("Batas akurasi lokasi tidak valid")
        if self.accuracy_tolerance not in get_args(AccuracyTolerance):
            raise GeofenceError("Aturan akurasi lokasi tidak valid")


@dataclass(frozen=True)
class FenceVerdict:
    inside: bool
    site_id: int | None
    """The matched site when inside, else the nearest; None when there are no sites."""
    site_name: str | None
    distance_m: float | None
    """Metres from the position to that site's fence edge (0 when inside the fence)."""
    accuracy_ok: bool
    message: str


def polygon_from_geojson(obj: Mapping[str, Any]) -> PolygonFence:
    """Build a fence from a GeoJSON Polygon, or a MultiPolygon with exactly one polygon.

    Positions are [lng, lat] (a third value, altitude, is ignored). A MultiPolygon of several
    parts is refused: register each part as its own site, so the verdict names the right one.
    """
    invalid = GeofenceError("Batas area lokasi tidak valid")
    if not isinstance(obj, Mapping):
        raise invalid
    kind = obj.get("type")
    coordinates = obj.get("coordinates")
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or len(coordinates) != 1:
            raise GeofenceError(
                "Area lokasi harus satu poligon; daftarkan tiap bagian sebagai lokasi tersendiri"
            )
        coordinates = coordinates[0]
    elif kind != "Polygon":
        raise invalid
    if not isinstance(coordinates, list) or not coordinates:
        raise invalid
    rings: list[tuple[Point, ...]] = []
    for ring in coordinates:
        if not isinstance(ring, list):
            raise invalid
        rings.append(tuple(_geojson_position(position) for position in ring))
    return PolygonFence(rings=tuple(rings))


def _geojson_position(position: object) -> Point:
    if not isinstance(position, (list, tuple)) or len(position) not in (2, 3):
        raise GeofenceError("Batas area lokasi tidak valid")
    lng, lat = position[0], position[1]
    return Point(lat=lat, lng=lng)


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    return _haversine_m(a.lat, a.lng, b.lat, b.lng)


def _haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def lnglat_shape_distance_m(shape: Any, p: Point) -> float:
    """Metres from `p` to a shapely geometry in (lng, lat) coordinates; 0 if it covers `p`.

    Uses the local equirectangular projection described in the module docstring.
    """
    if shape.covers(ShapelyPoint(p.lng, p.lat)):
        return 0.0
    kx = _METRES_PER_DEGREE * math.cos(math.radians(p.lat))
    ky = _METRES_PER_DEGREE
    local = affine_transform(shape, [kx, 0.0, 0.0, ky, -kx * p.lng, -ky * p.lat])
    _, nearest = nearest_points(ShapelyPoint(0.0, 0.0), local)
    nearest_lng = p.lng + float(nearest.x) / kx
    nearest_lat = p.lat + float(nearest.y) / ky
    return _haversine_m(p.lat, p.lng, nearest_lat, nearest_lng)


def fence_distance_m(fence: Fence, p: Point) -> float:
    """0 if `p` is inside the fence (edge included), else metres to the fence edge."""
    if isinstance(fence, CircleFence):
        return max(0.0, distance_m(fence.centre, p) - fence.radius_m)
    return lnglat_shape_distance_m(fence._shape, p)


def _centre_distance_m(fence: Fence, p: Point) -> float:
    centre = fence.centre if isinstance(fence, CircleFence) else fence._centroid
    return distance_m(centre, p)


def check_position(
    sites: Sequence[Site], p: Point, accuracy_m: float, policy: FencePolicy
) -> FenceVerdict:
    """Judge a position against the employee's sites; any site will do.

    When several sites accept the position, the one whose centre (circle) or centroid
    (polygon) is nearest wins, ties going to the lowest site_id, so the same input always
    names the same site. When none does, the verdict names the site whose fence is nearest.
    """
    if not isinstance(p, Point):
        raise GeofenceError("Koordinat tidak valid")
    if not (_is_finite_number(accuracy_m) and accuracy_m >= 0):
        raise GeofenceError("Akurasi lokasi tidak valid")
    accuracy_ok = accuracy_m <= policy.max_accuracy_m
    if not sites:
        return FenceVerdict(
            inside=False,
            site_id=None,
            site_name=None,
            distance_m=None,
            accuracy_ok=accuracy_ok,
            message="Tidak ada lokasi kerja yang terdaftar untuk Anda",
        )

    tolerance_m = accuracy_m if policy.accuracy_tolerance == "subtract" and accuracy_ok else 0.0
    measured: list[tuple[Site, float]] = []
    for site in sites:
        d = fence_distance_m(site.fence, p)
        if not math.isfinite(d):
            raise GeofenceError("Jarak ke lokasi kerja tidak dapat dihitung")
        measured.append((site, d))
    matches = [(site, d) for site, d in measured if d <= tolerance_m]
    if matches:
        site, d = min(matches, key=lambda m: (_centre_distance_m(m[0].fence, p), m[0].site_id))
    else:
        site, d = min(measured, key=lambda m: (m[1], m[0].site_id))
    inside = bool(matches) and accuracy_ok

    if not accuracy_ok:
        message = (
            f"Akurasi GPS terlalu rendah (±{format_distance(accuracy_m, round_up=True)}; "
            f"paling besar {format_distance(policy.max_accuracy_m)}). "
            "Coba lagi di tempat terbuka"
        )
    elif inside and d == 0:
        message = f"Anda berada di lokasi {site.name}"
    elif inside:
        message = (
            f"Anda berada {format_distance(d, round_up=True)} di luar batas {site.name}, "
            f"masih dalam akurasi GPS (±{format_distance(accuracy_m, round_up=True)})"
        )
    elif isinstance(site.fence, CircleFence):
        from_centre = distance_m(site.fence.centre, p)
        message = (
            f"Anda berada {format_distance(from_centre, round_up=True)} dari {site.name}; "
            f"batas {format_distance(site.fence.radius_m)}"
        )
    else:
        message = (
            f"Anda berada {format_distance(d, round_up=True)} dari {site.name}; di luar batas area"
        )
    return FenceVerdict(
        inside=inside,
        site_id=site.site_id,
        site_name=site.name,
        distance_m=d,
        accuracy_ok=accuracy_ok,
        message=message,
    )
