"""Background work for e-TPP, run by the django-tasks database worker (``tepat db_worker``)."""

from tepat.tpp.services import tpp_run_compute

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


@task()
def tpp_run_task(run_id: int) -> str:
    """Compute a queued monthly run; the run's page shows its progress meanwhile."""
    run = tpp_run_compute(run_id)
    return f"{run.year}-{run.month:02d}: {run.progress_done} pegawai, {run.error_count} galat"
