"""Work-site coordinate quality check against administrative boundaries.

Imported site coordinates are often wrong: only about half of the Dapodik 2019 school points for
Mukomuko fall inside the school's own kecamatan. Before a coordinate becomes a geofence, it is
checked here: is it inside the declared kecamatan, in another one, outside the regency, or
missing? Distances use the same local projection as the geofence (see
`tepat.rules.geofence.lnglat_shape_distance_m`).

Build `Boundaries` once per process with `load_boundaries`; its polygons are prepared, so
checking a few hundred sites takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import shapely  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry import Point as ShapelyPoint  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry import shape as geojson_shape  # type: ignore[import-untyped, unused-ignore]

from tepat.rules.formatting import format_distance
from tepat.rules.geofence import GeofenceError, Point, lnglat_shape_distance_m

SiteStatus = Literal["ok", "outside_kecamatan", "outside_regency", "missing", "unknown_kecamatan"]

_SHAPE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError)


class BoundaryError(ValueError):
    """Boundary data that cannot be used. `message` is in Indonesian for the admin screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AdminArea:
    code: str
    name: str
    shape: Any = field(repr=False, compare=False)
    """A prepared shapely (Multi)Polygon in (lng, lat) coordinates."""


@dataclass(frozen=True, eq=False)
class Boundaries:
    regency: AdminArea
    kecamatan: Mapping[str, AdminArea]
    """Kecamatan by code, in code order."""


@dataclass(frozen=True)
class SiteLocation:
    """A site's stored coordinates and declared kecamatan, exactly as imported.

    Values are not validated here: bad ones are what `check_site` reports. An empty
    `kecamatan_code` counts as none.
    """

    lat: float | None
    lng: float | None
    kecamatan_code: str | None


@dataclass(frozen=True)
class SiteCheck:
    status: SiteStatus
    distance_m: float | None
    """0 when ok; metres to the declared kecamatan when outside it; metres to the regency when
    outside the regency; None when there is nothing to measure."""
    found_kecamatan_code: str | None
    """The kecamatan that actually contains the point, if any."""
    message: str


def load_boundaries(
    regency_geojson: Mapping[str, Any],
    kecamatan_geojson: Mapping[str, Any],
    code_property: str,
    *,
    name_property: str = "nama",
) -> Boundaries:
    """Read the regency (FeatureCollection, Feature or geometry) and kecamatan (FeatureCollection).

    Each kecamatan feature needs a string code in `code_property`; features sharing a code are
    merged (a kecamatan with islands may come as several features).
    """
    regency_features = _features(regency_geojson, allow_bare=True)
    regency_shape = _union([_feature_shape(f) for f in regency_features])
    first = _properties(regency_features[0])
    regency = AdminArea(
        code=str(first.get(code_property, "")),
        name=str(first.get(name_property) or "Kabupaten"),
        shape=regency_shape,
    )

    shapes_by_code: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for feature in _features(kecamatan_geojson, allow_bare=False):
        properties = _properties(feature)
        code = properties.get(code_property)
        if not isinstance(code, str) or not code.strip():
            raise BoundaryError(f"Batas kecamatan tanpa kode ({code_property}) pada data")
        code = code.strip()
        shapes_by_code.setdefault(code, []).append(_feature_shape(feature))
        names.setdefault(code, str(properties.get(name_property) or code))
    if not shapes_by_code:
        raise BoundaryError("Data batas kecamatan kosong")
    kecamatan = {
        code: AdminArea(code=code, name=names[code], shape=_union(shapes_by_code[code]))
        for code in sorted(shapes_by_code)
    }
    return Boundaries(regency=regency, kecamatan=MappingProxyType(kecamatan))


def _features(obj: Mapping[str, Any], *, allow_bare: bool) -> list[Mapping[str, Any]]:
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    if kind == "FeatureCollection":
        features = obj.get("features")
        if isinstance(features, list) and features:
            return features
    elif allow_bare and kind == "Feature":
        return [obj]
    elif allow_bare and kind in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "properties": {}, "geometry": obj}]
    raise BoundaryError("Format GeoJSON batas wilayah tidak dikenali")


def _properties(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = feature.get("properties") if isinstance(feature, Mapping) else None
    return properties if isinstance(properties, Mapping) else {}


def _feature_shape(feature: Mapping[str, Any]) -> Any:
    invalid = BoundaryError("Geometri batas wilayah tidak valid")
    geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") not in (
        "Polygon",
        "MultiPolygon",
    ):
        raise invalid
    try:
        shape = geojson_shape(geometry)
        min_lng, min_lat, max_lng, max_lat = (float(v) for v in shape.bounds)
        # The range check catches [lat, lng] data, the commonest GeoJSON mistake.
        valid = (
            bool(shape.is_valid)
            and float(shape.area) > 0
            and -180 <= min_lng <= max_lng <= 180
            and -90 <= min_lat <= max_lat <= 90
        )
    except _SHAPE_ERRORS:
        raise invalid from None
    if not valid:
        raise invalid
    return shape


def _union(shapes: list[Any]) -> Any:
    union = shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)
    shapely.prepare(union)
    return union


def check_site(b: Boundaries, site: SiteLocation) -> SiteCheck:
    """Check one site's coordinates against its declared kecamatan and the regency.

    Without a declared kecamatan only the regency is checked ("ok" if inside it).
    """
    if site.lat is None or site.lng is None:
        return SiteCheck("missing", None, None, "Koordinat belum diisi")
    try:
        p = Point(lat=site.lat, lng=site.lng)
    except GeofenceError:
        return SiteCheck("missing", None, None, _invalid_coordinates_message(b, site.lat, site.lng))

    code = site.kecamatan_code.strip() if site.kecamatan_code else None
    own = b.kecamatan.get(code) if code else None
    if code and own is None:
        return SiteCheck("unknown_kecamatan", None, None, f"Kode kecamatan {code} tidak dikenal")

    point = ShapelyPoint(p.lng, p.lat)
    if own is not None and own.shape.covers(point):
        return SiteCheck("ok", 0.0, own.code, f"Di dalam Kecamatan {own.name}")
    # Neighbouring polygons share edges; scanning in code order keeps the answer stable.
    found = next((k for k in b.kecamatan.values() if k.shape.covers(point)), None)
    found_code = found.code if found else None
    in_regency = found is not None or bool(b.regency.shape.covers(point))

    if not in_regency:
        d = lnglat_shape_distance_m(b.regency.shape, p)
        return SiteCheck(
            "outside_regency",
            d,
            None,
            f"Di luar {b.regency.name} ({format_distance(d, round_up=True)})",
        )
    if own is None:
        where = f", Kecamatan {found.name}" if found else ""
        return SiteCheck("ok", 0.0, found_code, f"Di dalam {b.regency.name}{where}")

    d = lnglat_shape_distance_m(own.shape, p)
    where = (
        f"berada di Kecamatan {found.name}"
        if found
        else f"tidak berada di kecamatan mana pun di {b.regency.name}"
    )
    return SiteCheck(
        "outside_kecamatan",
        d,
        found_code,
        f"Di luar Kecamatan {own.name} ({format_distance(d, round_up=True)}), {where}",
    )


def _invalid_coordinates_message(b: Boundaries, lat: float, lng: float) -> str:
    """Name the common import mistake of swapped latitude and longitude when it fits."""
    try:
        swapped = Point(lat=lng, lng=lat)
    except GeofenceError:
        return "Koordinat tidak valid"
    if b.regency.shape.covers(ShapelyPoint(swapped.lng, swapped.lat)):
        return "Koordinat tidak valid: lintang dan bujur tampaknya tertukar"
    return "Koordinat tidak valid"
