"""Writes to accounts."""

from tepat.accounts.models import Role, User

STAFF_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN})


def user_role_flags_apply(user: User) -> None:
    """Derive Django's admin flags from the Tepat role (not saved).

    The flags are never set by hand, so an account cannot hold admin access that its role
    does not explain.
    """
    user.is_staff = user.role in STAFF_ROLES
    user.is_superuser = user.role == Role.SUPERADMIN
