"""Organisation endpoints: read-only, scoped by the access layer like every page."""

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from tepat.accounts import access
from tepat.org import selectors
from tepat.org.models import Employee, WorkSite


class BoundedLimitOffset(LimitOffsetPagination):
    """ninja's limit/offset, both bounded: a 20-digit offset or limit overflows the database's
    integer (a 500) instead of answering an empty page; past the bounds it is a 422."""

    class Input(LimitOffsetPagination.Input):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=1_000_000_000)


router = Router(tags=["org"])

# A row id the database can hold (a signed 64-bit integer): past it SQLite overflows (a 500)
# where the answer must be a 422 naming the field.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class OpdOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class PositionOut(Schema):
    valid_from: date
    valid_to: date | None
    unit_code: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    opd_code: str = Field(alias="opd.code")
    jabatan: str
    jabatan_kind: str
    kelas_jabatan: int
    golongan: str
    supervisor_nip: str | None = Field(None, alias="supervisor.nip")


class EmployeeOut(Schema):
    id: int
    nip: str
    name: str
    full_name: str
    kind: str
    gender: str
    active: bool
    position: PositionOut | None

    @staticmethod
    def resolve_position(obj: Employee) -> object:
        current = getattr(obj, "current", None)
        return current[0] if current else None


class SiteOut(Schema):
    id: int
    name: str
    unit_code: str = Field(alias="unit.code")
    shape: str
    latitude: float | None
    longitude: float | None
    radius_m: int | None
    timezone: str
    quality: str
    quality_distance_m: int | None
    quality_message: str
    location_approximate: bool
    location_note: str


class EmployeeFilter(Schema):
    q: str = Field("", max_length=64)
    opd: RowId | None = None


@router.get("/opds", response=list[OpdOut], summary="OPD visible to the caller")
def opd_list(request: HttpRequest) -> object:
    return access.opds_visible_to(request.user).order_by("name")


@router.get("/employees", response=list[EmployeeOut], summary="Employees visible to the caller")
@paginate(BoundedLimitOffset)
def employee_list(request: HttpRequest, filters: Query[EmployeeFilter]) -> object:
    today = timezone.localdate()
    return selectors.employees_search(
        access.employees_visible_to(request.user, today),
        on=today,
        text=filters.q,
        opd_id=filters.opd,
    )


@router.get("/employees/{employee_id}", response=EmployeeOut, summary="One employee")
def employee_detail(request: HttpRequest, employee_id: RowId) -> object:
    today = timezone.localdate()
    employee = access.employee_for_user(request.user, employee_id, today)
    return selectors.employees_with_position(Employee.objects.filter(pk=employee.pk), today).get()


@router.get("/sites", response=list[SiteOut], summary="Work sites visible to the caller")
@paginate(BoundedLimitOffset)
def site_list(request: HttpRequest, flagged: bool = False) -> object:
    sites = access.sites_visible_to(request.user).select_related("unit").order_by("name")
    return selectors.sites_flagged(sites) if flagged else sites


@router.get("/sites/{site_id}", response=SiteOut, summary="One work site")
def site_detail(request: HttpRequest, site_id: RowId) -> WorkSite:
    return access.site_for_user(request.user, site_id)
