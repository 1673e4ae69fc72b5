"""The read-replica router's decisions, without a replica (test_replica.py runs a real one)."""

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import User
from tepat.monitor import views as monitor_views
from tepat.nodes.router import (
    ReplicaReadsMiddleware,
    ReplicaRouter,
    replica_reads,
    replica_reads_active,
)
from tepat.org.models import Employee
from tepat.presence import views as presence_views
from tepat.presence.models import CheckinEvent
from tepat.tpp.models import TppResult

router = ReplicaRouter()
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def with_replica(settings: Any) -> None:
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}


@pytest.mark.usefixtures("with_replica")
def test_domain_reads_go_to_the_replica_only_inside_replica_reads() -> None:
    assert router.db_for_read(Employee) == "default"
    with replica_reads():
        assert router.db_for_read(Employee) == "replica"
        assert router.db_for_read(CheckinEvent) == "replica"
        assert router.db_for_read(TppResult) == "replica"
    assert router.db_for_read(Employee) == "default"


@pytest.mark.usefixtures("with_replica")
@pytest.mark.parametrize("model", [User, Session, DBTaskResult])
def test_logins_sessions_and_tasks_are_always_read_from_the_primary(model: Any) -> None:
    with replica_reads():
        assert router.db_for_read(model) == "default"


@pytest.mark.usefixtures("with_replica")
def test_writes_and_reads_inside_a_transaction_stay_on_the_primary(transactional_db: None) -> None:
    with replica_reads():
        assert router.db_for_write(Employee) == "default"
        assert router.db_for_read(Employee) == "replica"
        with transaction.atomic():
            assert router.db_for_read(Employee) == "default"


def test_without_a_replica_everything_reads_from_the_primary() -> None:
    with replica_reads():
        assert router.db_for_read(Employee) == "default"


def test_the_replica_is_never_migrated() -> None:
    assert router.allow_migrate("replica", "presence") is False
    assert router.allow_migrate("default", "presence") is None


def _seen(settings: Any, method: str, view: Any) -> bool:
    """Whether the view ran with replica reads on, through the middleware."""
    settings.TEPAT_REPLICA_VIEWS = [
        "tepat.monitor.views.dashboard",
        "tepat.presence.views.recap",
    ]
    seen: list[bool] = []

    def get_response(request: HttpRequest) -> HttpResponse:
        middleware.process_view(request, view, (), {})
        seen.append(replica_reads_active())
        return HttpResponse()

    middleware = ReplicaReadsMiddleware(get_response)
    middleware(getattr(RequestFactory(), method)("/"))
    assert not replica_reads_active()  # nothing leaks into the next request
    return seen[0]


def test_listed_views_read_from_the_replica_on_get_only(settings: Any) -> None:
    assert _seen(settings, "get", monitor_views.dashboard)
    assert _seen(settings, "head", presence_views.recap)  # decorated: still its own name
    assert not _seen(settings, "post", monitor_views.dashboard)
    assert not _seen(settings, "get", monitor_views.alert_detail)
    assert not _seen(settings, "get", presence_views.review_list)
