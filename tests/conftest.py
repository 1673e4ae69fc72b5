"""Fixtures shared by the Django tests. Django models are imported lazily so the pure
rules tests under tests/rules run without a configured Django."""

import sys
from typing import Any

import pytest


@pytest.fixture
def world(db: None) -> Any:
    from tests.world import world_build

    return world_build()


@pytest.fixture
def schedules(world: Any) -> None:
    """The world's schedule groups get their working hours (see `world_schedules_save`)."""
    from tests.world import world_schedules_save

    world_schedules_save(world)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """The production hasher costs ~0.5 s per password; tests only need it to round-trip."""
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _checkin_caches_empty() -> None:
    """Each test builds its own world (SQLite reuses ids after a rollback): no unit's sites
    cached by the check-in path may carry over from the test before."""
    services = sys.modules.get("tepat.presence.services")  # not imported: nothing cached
    if services is not None:
        services.checkin_caches_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that commits (transactional_db, live_server) restores the migrated data
    after it (serialized_rollback). One that did not would end with a flush that re-creates
    the content types under new ids, and the next serialized_rollback test in the same worker
    would then fail to restore its own (a duplicate key), or run without the shipped policies,
    depending on the order xdist happens to give."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        commits = kwargs.get("transaction") or {"transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        )
        if not commits or kwargs.get("serialized_rollback"):
            continue
        kwargs.update(transaction=True, serialized_rollback=True)
        args = marker.args if marker else ()
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)
