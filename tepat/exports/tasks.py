"""Background work for requested exports, run by the django-tasks database worker
(``tepat db_worker``)."""

from tepat.exports.services import export_build

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


@task()
def export_build_task(export_id: int) -> str:
    """Build one requested export; its row on "Unduhan saya" shows the state meanwhile."""
    export = export_build(export_id)
    return f"{export.kind} #{export.pk}: {export.status}"
