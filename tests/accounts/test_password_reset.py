"""Forgot password: by NIP or username, the same answer whatever was typed, a one-time link."""

import re

from django.core import mail
from django.test import Client

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
