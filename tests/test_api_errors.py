"""Bad API input gets a clear Indonesian message and a 4xx, never a 500."""

import re

from django.test import Client

from tests.world import World, login


def test_unauthenticated_call_is_told_to_log_in(world: World) -> None:
    response = Client().get("/api/v1/org/employees")
    assert response.status_code == 401
    assert response.json() == {"detail": "Silakan masuk terlebih dahulu."}


def test_a_non_numeric_limit_is_a_422_in_indonesian(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get("/api/v1/org/employees?limit=banyak")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Permintaan tidak valid."
    assert body["errors"] == [{"field": "limit", "message": "Nilai ini harus berupa angka."}]


def test_an_over_long_search_is_refused(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get("/api/v1/org/employees", {"q": "x" * 200})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"


def test_an_unknown_id_is_a_404_in_indonesian(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get("/api/v1/org/employees/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Pegawai tidak ditemukan."}


def test_the_schema_and_docs_are_published(world: World) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/org/employees" in schema["paths"]
    docs = login(Client(), world.users["admin_bkpsdm"]).get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content  # self-hosted, no CDN
    # No asset from another origin (a bare "cdn" could also occur inside a random CSP nonce).
    assert re.findall(rb"(?:src|href)=\"(?:https?:)?//", docs.content) == []


def test_a_nul_character_in_a_search_is_a_400_not_a_database_error(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get("/api/v1/org/employees?q=guru%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_nul_character_in_a_json_body_is_a_400(world: World) -> None:
    from tests.presence.phone import Phone

    phone = Phone()
    phone.login(world.teacher.nip)
    item = phone.checkin(-2.4233, 101.1667)
    item["kind"] = "in\u0000"
    assert phone.send(item).status_code == 400


def test_a_check_in_with_an_offset_no_zone_uses_is_refused(world: World) -> None:
    from tests.presence.phone import Phone

    phone = Phone()
    phone.login(world.teacher.nip)
    item = phone.checkin(-2.4233, 101.1667)
    item["taken_at"] = "2026-11-23T07:19:40-19:04"
    response = phone.send(item)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "taken_at"
