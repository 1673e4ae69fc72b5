"""The month, the OPD and the page a list page is asked for: ``?bulan=YYYY-MM&opd=<id>&page=N``.

A bad value never breaks the page: an unreadable month or an OPD the person may not see
falls back to this month or to every OPD they may see, with a message saying so; a page
number out of range shows the nearest page (Django's ``Paginator.get_page``, as the alert
and notification lists page). Lists of a province are paged here, never cut: the page shows
how many there are in all, and its links keep the filters (``pagination.html``).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tepat.org.models import Opd

PAGE_SIZE = 100  # names per page, as the monitor's not-checked-in list
EARLIEST_YEAR = 2000

T = TypeVar("T")


def month_param(request: HttpRequest, today: date) -> date:
    """The first day of the month asked for in ``bulan``; this month when it is missing, or
    (with a message) when it cannot be read or lies outside the years Tepat keeps."""
    raw = request.GET.get("bulan", "").strip()
    this_month = today.replace(day=1)
    if not raw:
        return this_month
    try:
        first = date.fromisoformat(raw + "-01")
    except ValueError:
        first = None
    if first is None or not EARLIEST_YEAR <= first.year <= today.year + 1:
        messages.warning(request, _("The month is not valid: write it as YYYY-MM."))
        return this_month
    return first


def opd_param(request: HttpRequest, opds: QuerySet[Opd]) -> Opd | None:
    """The OPD asked for in ``opd``, among ``opds`` (those the person may see); None for
    all of them, also (with a message) when the value is not one of them."""
    raw = request.GET.get("opd", "").strip()
    if not raw:
        return None
    opd = opds.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 10 else None
    if opd is None:
        messages.warning(request, _("No such OPD."))
    return opd


def page_of(request: HttpRequest, items: QuerySet[Any] | Sequence[T]) -> Page[Any]:
    """The page of ``items`` asked for in ``page`` (the first when missing or unreadable,
    the last when past the end). A queryset is counted and sliced by the database."""
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
