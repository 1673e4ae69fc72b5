from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a login may do. Being an *atasan* is not a role: it follows from the org chart."""

    ASN = "asn", _("ASN")
    OPERATOR_OPD = "operator_opd", _("OPD operator")
    KEPALA_OPD = "kepala_opd", _("Head of OPD")
    ADMIN_BKPSDM = "admin_bkpsdm", _("BKPSDM administrator")
    AUDITOR = "auditor", _("Auditor")
    SUPERADMIN = "superadmin", _("Super administrator")


OPD_SCOPED_ROLES = frozenset({Role.OPERATOR_OPD, Role.KEPALA_OPD})
REGENCY_WIDE_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN})


class TepatUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> "User":
        extra.setdefault("role", Role.SUPERADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    objects = TepatUserManager()  # type: ignore[misc]

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.ASN)
    opd = models.ForeignKey(
        "org.Opd",
        verbose_name=_("OPD"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Required for OPD operators and heads of OPD: the only OPD they see."),
    )
    employee = models.OneToOneField(
        "org.Employee",
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["operator_opd", "kepala_opd"]) | Q(opd__isnull=False),
                name="user_opd_role_has_opd",
                violation_error_message=_("An OPD operator or head of OPD needs an OPD."),
            ),
            models.CheckConstraint(
                condition=~Q(role="asn") | Q(employee__isnull=False),
                name="user_asn_has_employee",
                violation_error_message=_("An ASN account needs its employee record."),
            ),
        ]


class AuthedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a Tepat ``User``, never anonymous."""

    user: User


class RequestCount(models.Model):
    """How often one client or one account asked for something rate-limited (a password
    reset link) within a fixed window: shared by every node through the database.

    ``key`` is a keyed pseudonym (``throttle.pseudonym``), never the address or the username
    itself; rows older than a day are deleted as new ones come.
    """

    scope = models.CharField(_("scope"), max_length=32)
    key = models.CharField(_("key"), max_length=64)
    window_start = models.DateTimeField(_("window start"), db_index=True)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("request count")
        verbose_name_plural = _("request counts")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "window_start"], name="request_count_window_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.window_start:%Y-%m-%d %H:%M} {self.count}"
