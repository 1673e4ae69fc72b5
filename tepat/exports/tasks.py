"""Background work for requested exports, run by the django-tasks database worker
(``tepat db_worker``)."""

from tepat.exports.services import export_build

try:  # Django 6
    from django.tasks import TaskContext, task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import TaskContext, task  # type: ignore[no-redef, assignment]


@task(takes_context=True)
def export_build_task(context: TaskContext[[int], str], export_id: int) -> str:
    """Build one requested export; its row on "Unduhan saya" shows the state meanwhile. The
    run's own id tells the build which other run, if any, still holds the export."""
    export = export_build(export_id, task_id=str(context.task_result.id))
    return f"{export.kind} #{export.pk}: {export.status}"
