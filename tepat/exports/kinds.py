"""What can be requested as an export: each kind names the page's own builder (no second copy
of any builder lives here), who may ask for it, and how its parameters are read.

The rule for which exports are requested rather than built in the request (docs/deploy.md):
an export whose rows may span more than one OPD, or are not bounded by one OPD's month, is a
requested export, for every caller (one path per button, whoever presses it). The TPP payment
request's files (nominatif XLSX/PDF, bank CSV) are one OPD's month by construction and stay
synchronous (measured in docs/performance.md)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tepat.accounts import access
from tepat.accounts.models import OPD_SCOPED_ROLES, REGENCY_WIDE_ROLES
from tepat.kinerja.exports import team_month_file
from tepat.monitor.exports import report_month, report_pdf, report_xlsx
from tepat.org.models import Opd
from tepat.presence.exports import recap_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


class ExportRefused(Exception):
    """A request that cannot be queued, with the status and the words for the person."""

    def __init__(self, message: str | Promise, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.status = status


@dataclass(frozen=True)
class ExportParams:
    first: date  # the month
    opd: Opd | None  # one OPD of those visible, or everyone visible


@dataclass(frozen=True)
class ExportKind:
    code: str
    label: Promise
    stem: str
    extension: str
    content_type: str
    roles: frozenset[str] | None  # None: any signed-in person (the rows are scoped)
    takes_opd: bool
    build: Callable[[Any, ExportParams, date], bytes]  # (requester, params, today)

    def filename(self, params: ExportParams) -> str:
        return f"{self.stem}-{params.first:%Y-%m}.{self.extension}"


def _discipline_xlsx(user: Any, p: ExportParams, today: date) -> bytes:
    return report_xlsx(report_month(user, p.first, p.opd, today))


def _discipline_pdf(user: Any, p: ExportParams, today: date) -> bytes:
    return report_pdf(report_month(user, p.first, p.opd, today), today)


# The monitor's report is for those who watch presence (monitor.views.DASHBOARD_ROLES).
REPORT_ROLES = OPD_SCOPED_ROLES | REGENCY_WIDE_ROLES

KINDS: dict[str, ExportKind] = {
    k.code: k
    for k in (
        ExportKind(
            "rekap-kehadiran", _("Attendance recap (XLSX)"), "rekap-kehadiran", "xlsx", XLSX,
            None, True, lambda user, p, today: recap_file(user, p.first, p.opd),
        ),
        ExportKind(
            "kinerja-tim", _("Team performance (XLSX)"), "kinerja", "xlsx", XLSX,
            None, False, lambda user, p, today: team_month_file(user, p.first.year, p.first.month),
        ),
        ExportKind(
            "rekap-disiplin-xlsx", _("Discipline report (XLSX)"), "rekap-disiplin", "xlsx", XLSX,
            REPORT_ROLES, True, _discipline_xlsx,
        ),
        ExportKind(
            "rekap-disiplin-pdf", _("Discipline report (PDF)"), "rekap-disiplin", "pdf", PDF,
            REPORT_ROLES, True, _discipline_pdf,
        ),
    )
}  # fmt: skip


def kind_allows(kind: ExportKind, user: Any) -> bool:
    return kind.roles is None or user.role in kind.roles


def params_read(kind: ExportKind, user: Any, data: Any, today: date) -> dict[str, Any]:
    """The stored parameters from a form's ``bulan`` (YYYY-MM; empty: this month) and ``opd``
    (empty: every OPD visible); ExportRefused for a malformed or future month, 404 for an
    OPD the user may not see."""
    raw_month = str(data.get("bulan", "") or "").strip()
    if not raw_month:
        first = today.replace(day=1)
    else:
        try:
            first = date.fromisoformat(raw_month + "-01")
        except ValueError:
            raise ExportRefused(_("The month is not valid: write it as YYYY-MM.")) from None
    if first > today:
        raise ExportRefused(_("That month has not begun yet."))
    params: dict[str, Any] = {"bulan": f"{first:%Y-%m}", "opd": None}
    raw_opd = str(data.get("opd", "") or "").strip()
    if raw_opd and kind.takes_opd:
        if not raw_opd.isdigit():
            raise ExportRefused(_("The OPD is not valid."))
        if not access.opds_visible_to(user).filter(pk=int(raw_opd)).exists():
            raise ExportRefused(_("No such OPD."), status=404)
        params["opd"] = int(raw_opd)
    return params


def params_load(params: dict[str, Any]) -> ExportParams:
    """The stored parameters as the builder takes them (the OPD looked up again)."""
    opd_id = params.get("opd")
    opd = Opd.objects.filter(pk=opd_id).first() if opd_id else None
    return ExportParams(first=date.fromisoformat(params["bulan"] + "-01"), opd=opd)
