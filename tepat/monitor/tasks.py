"""Background work for the monitor, run by the django-tasks database worker."""

from datetime import date

from django.utils import timezone

from tepat.monitor.services import discipline_alerts_run

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


@task()
def discipline_alerts_task(day: str = "") -> str:
    """Raise, withdraw and escalate discipline alerts and deliver notifications; safe to run
    again (after the nightly verdict rebuild, and whenever an approval rebuilds past days)."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    return discipline_alerts_run(today=today).summary()
