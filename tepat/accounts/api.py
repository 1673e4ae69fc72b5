"""Who am I: the caller's account, role and, for an ASN, their employee record."""

from django.http import HttpRequest
from ninja import Router, Schema

from tepat.accounts import access

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    role: str
    role_label: str
    opd_code: str | None
    employee_id: int | None
    employee_nip: str | None
    is_atasan: bool


@router.get("/me", response=MeOut, summary="The logged-in account")
def me(request: HttpRequest) -> dict[str, object]:
    user = request.user
    return {
        "username": user.get_username(),
        "role": user.role,  # type: ignore[union-attr]
        "role_label": str(user.get_role_display()),  # type: ignore[union-attr]
        "opd_code": user.opd.code if user.opd else None,  # type: ignore[union-attr]
        "employee_id": user.employee_id,  # type: ignore[union-attr]
        "employee_nip": user.employee.nip if user.employee else None,  # type: ignore[union-attr]
        "is_atasan": access.is_atasan(user),
    }
