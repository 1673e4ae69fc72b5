"""Ship the two example policies: Kaur-style approved and in force from its start (so a month
can be computed out of the box), TTU-style as a draft to show a second regency is data. Both
keep the central tunjangan-kinerja scale as basic amounts, labelled PLACEHOLDER in their
legal basis until the regency enters its own annex."""

from typing import Any

from django.db import migrations
from django.utils import timezone

from tepat.rules.tpp_policy import POLICY_DIR, policy_from_yaml

SHIPPED = (("kaur_style", "approved"), ("ttu_style", "draft"))
SOURCE = {"kaur_style": "kaur_style_v1"}
"""Kaur-style version 1 as shipped here; `kaur_style.yaml` holds its later version (0004)."""


def ship(apps: Any, schema_editor: Any) -> None:
    Version = apps.get_model("tpp", "TppPolicyVersion")
    for name, status in SHIPPED:
        text = (POLICY_DIR / f"{SOURCE.get(name, name)}.yaml").read_text(encoding="utf-8")
        policy = policy_from_yaml(text)
        Version.objects.get_or_create(
            name=policy.name,
            version=policy.version,
            defaults={
                "regulation": policy.regulation,
                "valid_from": policy.valid_from,
                "valid_to": policy.valid_to,
                "definition": text,
                "status": status,
                "approved_at": timezone.now() if status == "approved" else None,
            },
        )


def unship(apps: Any, schema_editor: Any) -> None:
    Version = apps.get_model("tpp", "TppPolicyVersion")
    Version.objects.filter(
        name__in=[name for name, _status in SHIPPED], version="1", runs__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tpp", "0001_tpp_policies_runs_results")]
    operations = [migrations.RunPython(ship, unship)]
