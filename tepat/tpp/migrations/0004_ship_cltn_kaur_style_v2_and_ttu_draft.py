"""CLTN (cuti di luar tanggungan negara) in both shipped policies: a CLTN day is paid nothing.

Kaur-style version 1 is approved and never changes, so the change is version 2 (from November
2026), shipped as a draft for BKPSDM to approve under four eyes. TTU-style was shipped as a
draft: it is brought up to the shipped file unless BKPSDM has edited it since (then their text
stays and they add CLTN themselves)."""

import hashlib
from typing import Any

from django.db import migrations

from tepat.rules.tpp_policy import POLICY_DIR, policy_from_yaml

TTU_AS_SHIPPED_SHA256 = "98d4606f5a5d70b66c58f2ac29b89f62116c4a7a04747c432a844801c527421d"
"""The TTU-style draft as migration 0002 stored it, before CLTN."""


def _fields(text: str) -> dict[str, Any]:
    policy = policy_from_yaml(text)
    return {
        "name": policy.name,
        "version": policy.version,
        "regulation": policy.regulation,
        "valid_from": policy.valid_from,
        "valid_to": policy.valid_to,
        "definition": text,
    }


def ship(apps: Any, schema_editor: Any) -> None:
    Version = apps.get_model("tpp", "TppPolicyVersion")
    kaur = _fields((POLICY_DIR / "kaur_style.yaml").read_text(encoding="utf-8"))
    Version.objects.get_or_create(
        name=kaur.pop("name"), version=kaur.pop("version"), defaults={**kaur, "status": "draft"}
    )
    ttu_text = (POLICY_DIR / "ttu_style.yaml").read_text(encoding="utf-8")
    for draft in Version.objects.filter(name="ttu_style", version="1", status="draft"):
        if hashlib.sha256(draft.definition.encode()).hexdigest() == TTU_AS_SHIPPED_SHA256:
            for name, value in _fields(ttu_text).items():
                setattr(draft, name, value)
            draft.save()


def unship(apps: Any, schema_editor: Any) -> None:
    Version = apps.get_model("tpp", "TppPolicyVersion")
    Version.objects.filter(
        name="kaur_style", version="2", status="draft", runs__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tpp", "0003_payment_requests_and_corrections")]
    operations = [migrations.RunPython(ship, unship)]
