"""Background work for e-Kinerja, run by the django-tasks database worker (``tepat db_worker``)."""

from tepat.kinerja.services import review_reminders_send

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


@task()
def review_reminders_task() -> str:
    """Remind supervisors of reports waiting too long (enqueue daily, e.g. from cron)."""
    reminders = review_reminders_send()
    return f"{len(reminders)} atasan, {sum(r.pending for r in reminders)} laporan"
