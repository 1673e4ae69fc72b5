"""Which of a person's punches belong to a day when their own plan (a schedule exception) puts
a shift next to another: a nurse's night shift takes punches until 14:00 the next day, so the
07:05 check-out after it falls in the window of the next morning's shift too.

The nightly verdict (``tepat.presence.attendance``) and the live dashboard
(``tepat.monitor.live``) both split the punches here, so the dashboard's "late" and the
recap's TL are judged on the same punches. Plain values in, plain values out: no queries.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from tepat.rules import calendar as cal
from tepat.rules import verdict
from tepat.rules.schedule import Schedule, ScheduleOverride, Shift, calendar_day


def shifts_around(
    day: date,
    planned: dict[date, ScheduleOverride],
    schedule: Schedule,
    calendar: cal.WorkCalendar,
) -> dict[date, Shift | None]:
    """What is planned the day before, the day and the day after: the person's exception
    where there is one, else the schedule's shift on a working day (None: a day off). A day
    the schedule is not in force on is left out."""
    plans: dict[date, Shift | None] = {}
    for on in (day - timedelta(days=1), day, day + timedelta(days=1)):
        if on in planned:
            plans[on] = planned[on].shift
        elif schedule.in_force_on(on):
            info = calendar_day(calendar, schedule, on)
            plans[on] = schedule.shift_on(on, info.period) if info.is_working_day else None
    return plans


def punches_of_day(
    day: date,
    events: list[verdict.AttendanceEvent],
    plans: dict[date, Shift | None],
    tz: ZoneInfo,
) -> list[verdict.AttendanceEvent]:
    """The punches of `events` that belong to `day`, given the shifts planned around it
    (`shifts_around`): where the presence windows of consecutive shifts overlap, a check-in
    goes to the shift whose start is nearer and a check-out to the one whose end is nearer
    (``verdict.assign_events``). With fewer than two shifts planned nothing competes for the
    punches: `events` is returned as it is."""
    instances = [shift.on(d, tz) for d, shift in sorted(plans.items()) if shift is not None]
    if len(instances) < 2:
        return events
    return list(verdict.assign_events(events, instances).by_day.get(day, ()))


def day_punches(
    day: date,
    events: list[verdict.AttendanceEvent],
    planned: dict[date, ScheduleOverride],
    schedule: Schedule,
    calendar: cal.WorkCalendar,
    tz: ZoneInfo,
) -> list[verdict.AttendanceEvent]:
    """The punches of `events` (those of the window of `day`, ``events_window``) that the
    verdict of `day` is judged on, for a person with exceptions `planned` around it."""
    return punches_of_day(day, events, shifts_around(day, planned, schedule, calendar), tz)
