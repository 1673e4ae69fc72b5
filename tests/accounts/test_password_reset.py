"""Forgot password: by NIP or username, the same answer whatever was typed, a one-time link."""

import re
from datetime import timedelta
from typing import Any

import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tepat.accounts.models import RequestCount
from tests.world import World


def _ask(client: Client, username: str) -> str:
    """The page shown after asking, without the per-request CSRF token and CSP nonce."""
    response = client.post("/akun/lupa-sandi/", {"username": username}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/akun/lupa-sandi/terkirim/"
    return re.sub(r'(value|nonce)="[^"]*"', "", response.content.decode())


def test_the_answer_does_not_tell_whether_the_account_exists(world: World) -> None:
    teacher = world.users["asn"]
    teacher.email = "guru@example.go.id"
    teacher.save(update_fields=["email"])

    known = _ask(Client(), teacher.username)
    unknown = _ask(Client(), "199001012020011999")

    assert 'id="reset-sent"' in known
    assert known == unknown
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["guru@example.go.id"]


def test_an_account_without_an_address_gets_no_mail_and_the_same_page(world: World) -> None:
    page = _ask(Client(), world.users["asn"].username)
    assert 'id="reset-sent"' in page
    assert mail.outbox == []


def _reset_link(world: World) -> str:
    """The teacher, with an address on record, asks for a link: the path the mail carries."""
    user = world.users["asn"]
    user.email = "guru@example.go.id"
    user.save(update_fields=["email"])
    _ask(Client(), user.username)
    link = re.search(r"https?://[^/]+(/akun/atur-sandi/\S+/)", mail.outbox[0].body)
    assert link is not None
    return link.group(1)


def test_the_link_sets_a_new_password_once(world: World) -> None:
    user = world.users["asn"]
    link = _reset_link(world)

    client = Client()
    form = client.get(link, follow=True)  # Django swaps the token for a session key
    new = {"new_password1": "Kopi-Tubruk-Mukomuko-77", "new_password2": "Kopi-Tubruk-Mukomuko-77"}
    done = client.post(form.redirect_chain[-1][0], new, follow=True)

    assert 'id="reset-complete"' in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("Kopi-Tubruk-Mukomuko-77")
    again = Client().get(link, follow=True).content.decode()
    assert 'id="reset-link-invalid"' in again


def test_a_weak_new_password_is_refused_with_the_reason(world: World) -> None:
    user = world.users["asn"]
    link = _reset_link(world)
    client = Client()
    form = client.get(link, follow=True)

    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    user.refresh_from_db()
    assert not user.check_password("12345678")


def test_one_account_gets_at_most_three_mails_an_hour_and_the_same_page(
    world: World, settings: Any
) -> None:
    teacher = world.users["asn"]
    teacher.email = "guru@example.go.id"
    teacher.save(update_fields=["email"])
    pages = [_ask(Client(REMOTE_ADDR=f"192.0.2.{n}"), teacher.username) for n in range(5)]
    assert len(mail.outbox) == settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT == 3
    assert len(set(pages)) == 1  # the 4th and 5th ask see what the first saw
    # The count is in the database under a pseudonym, never the NIP.
    assert not RequestCount.objects.filter(key__contains=teacher.username).exists()
    assert RequestCount.objects.get(scope="reset-account").count == 5


def test_one_client_address_is_stopped_after_twenty_asks_an_hour(
    world: World, settings: Any
) -> None:
    settings.PASSWORD_RESET_LIMIT_PER_IP = 4
    client = Client(REMOTE_ADDR="198.51.100.23")
    for n in range(4):
        _ask(client, f"19900101202001100{n}")
    refused = client.post("/akun/lupa-sandi/", {"username": world.users["asn"].username})
    assert refused.status_code == 429
    assert 'id="reset-too-many"' in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    # Another address is not affected; and an hour later this one may ask again.
    _ask(Client(REMOTE_ADDR="198.51.100.24"), "199001012020011005")
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        _ask(client, "199001012020011006")
