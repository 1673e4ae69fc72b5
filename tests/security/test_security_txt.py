"""/.well-known/security.txt (RFC 9116) tells a finder of a vulnerability whom to write to,
in which languages, until when the file is valid, and where its canonical copy lives."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/.well-known/security.txt"


def _fields(response: Any) -> dict[str, str]:
    fields = {}
    for line in response.content.decode().splitlines():
        name, _, value = line.partition(": ")
        fields[name] = value
    return fields


def test_it_names_contact_languages_and_canonical(settings: Any) -> None:
    settings.SECURITY_CONTACT = "mailto:csirt@mukomukokab.go.id"
    response = Client().get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    fields = _fields(response)
    assert fields["Contact"] == "mailto:csirt@mukomukokab.go.id"
    assert fields["Preferred-Languages"] == "id, en"
    assert fields["Canonical"] == "http://testserver/.well-known/security.txt"
    assert set(fields) == {"Contact", "Expires", "Preferred-Languages", "Canonical"}


def test_contact_defaults_to_the_first_host() -> None:
    from django.conf import settings

    assert _fields(Client().get(URL))["Contact"] == f"mailto:security@{settings.ALLOWED_HOSTS[0]}"


@pytest.mark.parametrize(
    ("now", "expires"),
    [
        (datetime(2026, 11, 23, 9, 30, tzinfo=UTC), "2027-11-23T00:00:00Z"),
        (datetime(2028, 2, 29, 23, 59, tzinfo=UTC), "2029-02-28T00:00:00Z"),  # leap day
    ],
)
def test_it_expires_less_than_a_year_after_each_request(now: datetime, expires: str) -> None:
    with time_machine.travel(now, tick=False):
        value = _fields(Client().get(URL))["Expires"]
    assert value == expires
    ahead = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - now
    assert timedelta(days=364) < ahead < timedelta(days=365)


def test_it_is_read_only() -> None:
    assert Client().post(URL).status_code == 405
