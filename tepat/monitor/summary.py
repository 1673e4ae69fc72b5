"""Today's presence kept in a table, so a province's dashboard answers from one aggregate.

``live.presence_today`` judges each person from the ledger with the nightly verdict's rules:
right, but for 100,000 employees it takes seconds, far too slow for a page polled every
half minute by every OPD. The judgement is therefore stored, one ``PresenceToday`` row per
employee and day, and kept up to date cheaply:

- a *refresh* (at most every ``TEPAT_MONITOR_REFRESH_S`` seconds, default 10, by whichever
  dashboard request comes first; the others read the table as it is) judges again only the
  people the ledger moved for since: check-ins with a higher id than the last refresh read, review
  decisions likewise, anyone whose approved absence for the day appeared or went, and anyone
  whose schedule exception around the day was saved, changed or removed
  (``live.exception_marks``, a checksum per person kept in ``PresenceSync``). It reads
  from the id seen *one refresh earlier*, because a check-in can commit after one with a
  higher id (a phone's batch of 500 takes a while), and skips the ids it had already read;
- a *rebuild* judges everyone again: on the first request of the day, when the last rebuild
  is older than ``TEPAT_MONITOR_REBUILD_S`` (default 30 minutes), or from the
  ``monitor_presence_refresh --rebuild`` timer. It picks up what no id reveals: a new
  assignment, a changed schedule or calendar.

The numbers therefore equal ``presence_today``'s for the same moment (tests compare the two)
up to one refresh interval. One refresh runs at a time (a row lock, skipped by the others).

"Queued offline" is not stored: it is read at query time from the phones' heartbeats
(``PhoneHeartbeat``): someone not checked in whose phone reported check-ins waiting to be sent
today.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from tepat.monitor import live
from tepat.monitor.models import PhoneHeartbeat, PresenceSync, PresenceToday
from tepat.org.models import Employee, Opd
from tepat.presence.models import AttendanceDay, CheckinEvent, CheckinReview
from tepat.rules import verdict

NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def _refresh_every() -> timedelta:
    return timedelta(seconds=float(settings.TEPAT_MONITOR_REFRESH_S))


def _rebuild_every() -> timedelta:
    return timedelta(seconds=float(settings.TEPAT_MONITOR_REBUILD_S))


def presence_refresh(now: datetime, *, rebuild: bool = False) -> str:
    """Bring today's ``PresenceToday`` up to date with the ledger. Returns what was done:
    ``fresh`` (recent enough, nothing read), ``busy`` (another request is refreshing),
    ``refreshed`` or ``rebuilt``."""
    day = timezone.localdate(now)
    sync = PresenceSync.objects.filter(day=day).first()
    if sync is not None and not rebuild and not _due(sync, now):
        return "fresh"
    if sync is None:
        sync, _created = PresenceSync.objects.get_or_create(
            day=day, defaults={"built_at": NEVER, "refreshed_at": NEVER}
        )
    never_built = sync.built_at == NEVER
    with transaction.atomic():
        # The first build of the day is waited for (an empty table would show zeros);
        # later refreshes are skipped while another one runs.
        locked = (
            PresenceSync.objects.select_for_update(skip_locked=not never_built)
            .filter(day=day)
            .first()
        )
        if locked is None:
            return "busy"
        if connection.vendor == "postgresql":
            # A copy of the ledger: a crash may lose the last refresh (the next one redoes it),
            # so the request need not wait for its WAL to reach the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if not rebuild and not _due(locked, now):
            return "fresh"  # another request refreshed it while this one waited
        if rebuild or locked.built_at == NEVER or now - locked.built_at >= _rebuild_every():
            _rebuild(locked, day, now)
            return "rebuilt"
        _refresh(locked, day, now)
        return "refreshed"


def _due(sync: PresenceSync, now: datetime) -> bool:
    return (
        sync.built_at == NEVER
        or now - sync.refreshed_at >= _refresh_every()
        or now - sync.built_at >= _rebuild_every()
    )


def _stored(rows: Iterable[live.PresenceRow], day: date) -> list[PresenceToday]:
    return [
        PresenceToday(
            day=day,
            employee_id=r.employee_id,
            nip=r.nip,
            name=r.name,
            kind=r.kind,
            opd_id=r.opd_id,
            unit_id=r.unit_id,
            unit_name=r.unit_name,
            supervisor_id=r.supervisor_id,
            status=r.status,
            first_in=r.first_in,
            in_code=r.in_code or "",
            minutes_late=r.minutes_late,
            note=r.note,
            absence_code=r.absence_code,
        )
        for r in rows
    ]


def _rebuild(sync: PresenceSync, day: date, now: datetime) -> None:
    # Ids are read before the ledger: whatever commits meanwhile is read again next refresh.
    event_id = CheckinEvent.objects.aggregate(m=Max("id"))["m"] or 0
    review_id = CheckinReview.objects.aggregate(m=Max("id"))["m"] or 0
    marks = live.exception_marks(day)
    rows = live.presence_today(Employee.objects.all(), now)
    PresenceToday.objects.filter(day=day).delete()
    PresenceToday.objects.bulk_create(_stored(rows, day), batch_size=5000)
    PresenceToday.objects.filter(day__lt=day).delete()
    PresenceSync.objects.filter(day__lt=day).delete()
    if connection.vendor == "postgresql":  # a table rewritten whole: plan with fresh statistics
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE monitor_presencetoday")
    sync.built_at = sync.refreshed_at = now
    sync.event_id = sync.event_id_before = event_id
    sync.recent_event_ids = []
    sync.review_id = sync.review_id_before = review_id
    sync.exception_marks = marks
    sync.save()


def _refresh(sync: PresenceSync, day: date, now: datetime) -> None:
    moved: set[int] = set()
    event_id = sync.event_id
    seen = set(sync.recent_event_ids)
    recent: list[int] = []
    for pk, employee_id in CheckinEvent.objects.filter(pk__gt=sync.event_id_before).values_list(
        "pk", "employee_id"
    ):
        if pk not in seen:  # new, or committed after a higher id the last refresh read
            moved.add(employee_id)
        if pk > sync.event_id:
            recent.append(pk)
        event_id = max(event_id, pk)
    review_id = sync.review_id
    for pk, employee_id in CheckinReview.objects.filter(pk__gt=sync.review_id_before).values_list(
        "pk", "event__employee_id"
    ):
        moved.add(employee_id)
        review_id = max(review_id, pk)
    absences = set(
        AttendanceDay.objects.filter(day=day, day_code__in=verdict.ABSENCE_TYPES).values_list(
            "employee_id", "day_code"
        )
    )
    shown = set(
        PresenceToday.objects.filter(day=day, status="excused").values_list(
            "employee_id", "absence_code"
        )
    )
    moved |= {employee_id for employee_id, _code in absences ^ shown}
    marks = live.exception_marks(day)
    before = sync.exception_marks
    moved |= {int(k) for k in marks.keys() | before.keys() if marks.get(k) != before.get(k)}
    if moved:
        rows = live.presence_today(Employee.objects.filter(pk__in=moved), now)
        PresenceToday.objects.filter(day=day, employee_id__in=moved).delete()
        PresenceToday.objects.bulk_create(_stored(rows, day), batch_size=5000)
    sync.refreshed_at = now
    sync.event_id_before, sync.event_id = sync.event_id, event_id
    sync.recent_event_ids = recent
    sync.review_id_before, sync.review_id = sync.review_id, review_id
    sync.exception_marks = marks
    sync.save()


# --- reads -----------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def _queued_employees(day: date) -> QuerySet[PhoneHeartbeat, Any]:
    """Employees whose phone reported check-ins waiting to be sent today (a partial index
    holds only non-empty queues)."""
    return PhoneHeartbeat.objects.filter(queued__gt=0, contact_at__gte=_day_start(day)).values(
        "employee_id"
    )


def presence_rows(
    opds: QuerySet[Opd], day: date, opd_id: int | None = None
) -> QuerySet[PresenceToday]:
    """Today's stored rows of the people assigned to ``opds`` (the OPDs a user may watch, from
    ``access.opds_visible_to``; one of them if ``opd_id``), each annotated with
    ``live_status``: the stored status, except ``queued`` for someone not checked in whose
    phone holds check-ins."""
    rows = PresenceToday.objects.filter(day=day, opd_id__in=opds.values("pk"))
    if opd_id is not None:
        rows = rows.filter(opd_id=opd_id)
    queued = Case(
        When(employee_id__in=_queued_employees(day), then=Value("queued")),
        default=F("status"),
        output_field=CharField(),
    )
    return rows.annotate(live_status=Case(When(status="not_yet", then=queued), default=F("status")))


def count_queries(
    opds: QuerySet[Opd], day: date, key_of: str, opd_id: int | None = None
) -> tuple[QuerySet[PresenceToday, Any], QuerySet[PresenceToday, Any]]:
    """The two aggregates of ``counts``: (group, stored status, n) and (group, n queued)."""
    rows = PresenceToday.objects.filter(day=day, opd_id__in=opds.values("pk"))
    if opd_id is not None:
        rows = rows.filter(opd_id=opd_id)
    stored = rows.order_by().values_list(key_of, "status").annotate(n=Count("*"))
    queued = (
        rows.filter(status="not_yet", employee_id__in=_queued_employees(day))
        .order_by()
        .values_list(key_of)
        .annotate(n=Count("*"))
    )
    return stored, queued


def counts(
    opds: QuerySet[Opd], day: date, key_of: str, opd_id: int | None = None
) -> dict[int, dict[live.LiveStatus, int]]:
    """People per ``opd_id`` or ``unit_id`` and live status: one aggregate over the stored
    statuses, and one over the few not checked in whose phone holds their check-in."""
    stored, queued = count_queries(opds, day, key_of, opd_id)
    found: dict[int, dict[live.LiveStatus, int]] = {}
    for group, status, n in stored:
        found.setdefault(group, {})[cast(live.LiveStatus, status)] = n
    for group, n in queued:
        found[group]["queued"] = n
        found[group]["not_yet"] -= n
        if not found[group]["not_yet"]:
            del found[group]["not_yet"]
    return found


# As ``live.PresenceRow``'s fields, the status being the live one.
_LIST_FIELDS = (
    "employee_id", "nip", "name", "kind", "opd_id", "unit_id", "unit_name", "supervisor_id",
    "live_status", "first_in", "in_code", "minutes_late", "note", "absence_code",
)  # fmt: skip


def presence_list(
    opds: QuerySet[Opd],
    day: date,
    opd_id: int,
    status: str | None = None,
    unit_id: int | None = None,
    page: int = 1,
    per_page: int = 100,
) -> tuple[list[live.PresenceRow], int]:
    """One page of an OPD's people today by name, of one live status (all when None), and how
    many there are in all."""
    rows = presence_rows(opds, day, opd_id)
    if status is not None:
        rows = rows.filter(Q(("live_status", status)))
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    start = (page - 1) * per_page
    found = rows.order_by("name", "nip").values_list(*_LIST_FIELDS)[start : start + per_page]
    listed = [
        live.PresenceRow(
            employee_id=employee_id,
            nip=nip,
            name=name,
            kind=kind,
            opd_id=opd,
            unit_id=unit,
            unit_name=unit_name,
            supervisor_id=supervisor_id,
            status=cast(live.LiveStatus, live_status),
            first_in=first_in,
            in_code=in_code or None,
            minutes_late=minutes_late,
            note=note,
            absence_code=absence_code,
        )
        for (
            employee_id, nip, name, kind, opd, unit, unit_name, supervisor_id, live_status,
            first_in, in_code, minutes_late, note, absence_code,
        ) in found
    ]  # fmt: skip
    total = len(listed) if page == 1 and len(listed) < per_page else rows.count()
    return listed, total
