"""The e-Kinerja policy in force on a day: the stored version, else the one shipped with Tepat.

Its own module (not in `selectors`) because `tepat.accounts.access` reads it to know which
supervisors are away (Plt), and `selectors` reads access.
"""

from datetime import date

from tepat.kinerja.models import KinerjaPolicyVersion
from tepat.rules.kinerja_policy import (
    KinerjaPolicy,
    kinerja_policy_from_yaml,
    kinerja_policy_in_force,
    kinerja_policy_load,
)

DEFAULT_POLICY = "kinerja_default"


def kinerja_policy_on(day: date) -> KinerjaPolicy:
    """The stored version in force on `day`, else the policy shipped with Tepat."""
    stored = [
        kinerja_policy_from_yaml(v.definition)
        for v in KinerjaPolicyVersion.objects.filter(valid_from__lte=day).order_by("-valid_from")[
            :1
        ]
    ]
    if stored and stored[0].in_force_on(day):
        return stored[0]
    return kinerja_policy_in_force([kinerja_policy_load(DEFAULT_POLICY)], day)
