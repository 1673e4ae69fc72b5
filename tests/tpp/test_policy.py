"""TPP policy versions: validated drafts with Indonesian errors, four-eyes approval, the two
shipped policies, YAML import and export in the back office, every change audited."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from tepat.accounts.models import Role, User
from tepat.audit.models import AuditEntry
from tepat.rules.tpp_policy import POLICY_DIR
from tepat.tpp.models import TppPolicyVersion
from tepat.tpp.services import (
    tpp_policy_approve,
    tpp_policy_draft_save,
    tpp_policy_in_force,
    tpp_policy_parse,
)
from tests.world import World, login

SHIPPED = (POLICY_DIR / "kaur_style.yaml").read_text(encoding="utf-8")


def _second_bkpsdm() -> User:
    return User.objects.create(username="bkpsdm2", role=Role.ADMIN_BKPSDM, is_staff=True)


def _draft_yaml(**replace: str) -> str:
    text = SHIPPED.replace('version: "2"', 'version: "3"').replace(
        "valid_from: 2026-11-01", "valid_from: 2027-01-01"
    )
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def test_the_shipped_policies_are_kaur_in_force_and_ttu_as_a_draft(db: None) -> None:
    kaur = TppPolicyVersion.objects.get(name="kaur_style", version="1")
    ttu = TppPolicyVersion.objects.get(name="ttu_style")
    assert kaur.status == "approved"
    assert ttu.status == "draft"
    assert "PLACEHOLDER" in kaur.definition
    version, policy = tpp_policy_in_force(2026, 11)
    assert version == kaur
    assert policy.split.discipline_percent == 40
    assert kaur.definition == (POLICY_DIR / "kaur_style_v1.yaml").read_text(encoding="utf-8")
    assert policy.absence("CLTN") is None  # an approved version never changes


def test_cltn_ships_as_kaur_version_2_to_approve_and_in_the_ttu_draft(world: World) -> None:
    v2 = TppPolicyVersion.objects.get(name="kaur_style", version="2")
    assert (v2.status, v2.valid_from, v2.definition) == ("draft", date(2026, 11, 1), SHIPPED)
    ttu = TppPolicyVersion.objects.get(name="ttu_style")
    assert ttu.definition == (POLICY_DIR / "ttu_style.yaml").read_text(encoding="utf-8")
    for text in (v2.definition, ttu.definition):
        cltn = tpp_policy_parse(text).absence("CLTN")
        assert cltn is not None
        assert cltn.treatment == "unpaid"
        assert "KETENTUAN BAWAAN TEPAT" in cltn.legal_basis
    approved = tpp_policy_approve(actor=world.users[Role.ADMIN_BKPSDM], version=v2)
    assert tpp_policy_in_force(2026, 11)[0] == approved
    assert tpp_policy_in_force(2026, 10)[0].version == "1"


def test_a_draft_with_a_band_gap_and_a_bad_split_is_refused_in_indonesian(world: World) -> None:
    text = _draft_yaml(
        **{"discipline_percent: 40": "discipline_percent: 45", "from_minute: 31": "from_minute: 35"}
    )
    with pytest.raises(ValidationError) as caught:
        tpp_policy_draft_save(actor=world.users[Role.ADMIN_BKPSDM], definition=text)
    messages = " ".join(caught.value.messages)
    assert "harus berjumlah 100%" in messages
    assert "TL1" in messages
    assert "TL2" in messages
    assert not TppPolicyVersion.objects.filter(version="3").exists()


def test_the_author_cannot_approve_their_own_draft_a_second_bkpsdm_user_can(
    world: World,
) -> None:
    author = world.users[Role.ADMIN_BKPSDM]
    draft = tpp_policy_draft_save(actor=author, definition=_draft_yaml())
    with pytest.raises(PermissionDenied):
        tpp_policy_approve(actor=author, version=draft)
    with pytest.raises(PermissionDenied):
        tpp_policy_approve(actor=world.users[Role.AUDITOR], version=draft)
    with pytest.raises(PermissionDenied):
        tpp_policy_draft_save(actor=world.users[Role.OPERATOR_OPD], definition=_draft_yaml())
    approved = tpp_policy_approve(actor=_second_bkpsdm(), version=draft)
    assert approved.status == "approved"
    assert tpp_policy_in_force(2027, 1)[0] == approved
    assert tpp_policy_in_force(2026, 12)[0].name == "kaur_style"
    actions = list(
        AuditEntry.objects.filter(object_type="tpp.tpppolicyversion").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["tpp.policy_approve", "tpp.policy_create"]


def test_whoever_last_edited_a_draft_cannot_approve_it(world: World) -> None:
    author = world.users[Role.ADMIN_BKPSDM]
    editor = _second_bkpsdm()
    draft = tpp_policy_draft_save(actor=author, definition=_draft_yaml())
    tpp_policy_draft_save(
        actor=editor, definition=_draft_yaml(**{"percent_per_day: 3": "percent_per_day: 2"}),
        version=draft,
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        tpp_policy_approve(actor=editor, version=draft)
    with pytest.raises(PermissionDenied):
        tpp_policy_approve(actor=author, version=draft)
    superadmin = world.users[Role.SUPERADMIN]
    assert tpp_policy_approve(actor=superadmin, version=draft).status == "approved"


def test_an_approved_policy_is_never_changed(world: World) -> None:
    kaur = TppPolicyVersion.objects.get(name="kaur_style", version="1")
    with pytest.raises(ValidationError):
        tpp_policy_draft_save(
            actor=world.users[Role.ADMIN_BKPSDM], definition=kaur.definition, version=kaur
        )
    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    page = client.get(f"/admin/tpp/tpppolicyversion/{kaur.pk}/change/")
    assert b'name="definition"' not in page.content


def test_the_back_office_imports_a_yaml_file_and_exports_yaml(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    upload = SimpleUploadedFile("kebijakan.yaml", _draft_yaml().encode(), "application/yaml")
    response = client.post(
        "/admin/tpp/tpppolicyversion/add/", {"definition": "", "yaml_file": upload}
    )
    assert response.status_code == 302, response.content[:2000]
    draft = TppPolicyVersion.objects.get(name="kaur_style", version="3")
    assert draft.status == "draft"
    assert draft.valid_from == date(2027, 1, 1)
    exported = client.post(
        "/admin/tpp/tpppolicyversion/",
        {"action": "export_yaml", "_selected_action": [draft.pk]},
    )
    assert exported["Content-Type"].startswith("application/yaml")
    assert exported.content.decode() == draft.definition


def test_the_back_office_shows_the_rules_core_errors(world: World) -> None:
    client = login(Client(), world.users[Role.ADMIN_BKPSDM])
    text = _draft_yaml(**{"percent_per_day: 3": "percent_per_day: 130"})
    response = client.post("/admin/tpp/tpppolicyversion/add/", {"definition": text})
    assert response.status_code == 200
    assert "Potongan TK per hari" in response.content.decode()
