"""Django-admin permissions derived from the Tepat role, not from groups.

Keeping the grant in code means a role cannot drift away from what ``access`` allows:
BKPSDM administrators manage organisation data, auditors only view, nobody else reaches
the admin at all (``is_staff`` is set from the role by ``user_role_set``).
"""

from typing import Any

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from tepat.accounts import throttle
from tepat.accounts.models import Role

BKPSDM_APPS = frozenset({
    "org", "accounts", "audit", "presence", "kinerja", "tpp", "monitor", "axes",
    "django_tasks_database",
})  # fmt: skip
# Alerts change through the monitor's audited pages only; the admin shows them.
READ_ONLY_APPS = frozenset({"audit", "monitor"})


class RoleBackend(ModelBackend):
    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if not user_obj.is_active or not user_obj.is_authenticated:
            return False
        app_label, _, codename = perm.partition(".")
        action = codename.split("_", 1)[0]
        if user_obj.role == Role.AUDITOR:
            return action == "view"
        if user_obj.role == Role.ADMIN_BKPSDM and app_label in BKPSDM_APPS:
            return action == "view" or app_label not in READ_ONLY_APPS
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if not user_obj.is_active:
            return False
        if user_obj.role == Role.AUDITOR:
            return True
        if user_obj.role == Role.ADMIN_BKPSDM and app_label in BKPSDM_APPS:
            return True
        return super().has_module_perms(user_obj, app_label)


class AddressSprayBackend(BaseBackend):
    """Refuses every login from a client address that failed too many, across accounts
    (``throttle.address_spraying``), before any password is checked. It marks the request
    the way django-axes does, so the lockout page (web, admin) is the same 429."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and throttle.address_spraying(request):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            raise PermissionDenied
        return None
