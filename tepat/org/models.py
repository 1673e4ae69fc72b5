"""The regency's organisation: OPD, units, work sites and employees.

Who an employee *was* on a given day (unit, supervisor, kelas jabatan, golongan) lives in
``Assignment`` rows with effective dates, because a month's TPP depends on it. The
``Employee`` row holds only what never changes with a transfer.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

TIME_ZONES = [
    ("Asia/Jakarta", "WIB (UTC+7)"),
    ("Asia/Makassar", "WITA (UTC+8)"),
    ("Asia/Jayapura", "WIT (UTC+9)"),
]

PNS_GOLONGAN = [
    f"{g}/{r}" for g in ("I", "II", "III", "IV") for r in ("abcd" if g != "IV" else "abcde")
]
PPPK_GOLONGAN = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX",
    "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII",
]  # fmt: skip

BANK_ACCOUNT_MIN_DIGITS = 8
BANK_ACCOUNT_MAX_DIGITS = 20
"""Indonesian bank account numbers run from 10 digits (BCA, BNI) to 15–16 (BRI, some BPD);
the bounds leave room for a regional bank's format without accepting a NIK or a phone slip."""

bank_account_validator = RegexValidator(
    rf"^[0-9]{{{BANK_ACCOUNT_MIN_DIGITS},{BANK_ACCOUNT_MAX_DIGITS}}}$",
    _("An account number has 8 to 20 digits only, without spaces or dashes."),
)


def bank_account_masked(account: str) -> str:
    """What the audit trail shows of an account number: only its last four digits."""
    return f"****{account[-4:]}" if account else ""


class Regency(models.Model):
    """The Pemkab running this Tepat. One row; kept as a table for its name and zone."""

    code = models.CharField(_("Kemendagri code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=128)
    timezone = models.CharField(_("time zone"), max_length=32, choices=TIME_ZONES)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    kecamatan_boundaries = models.JSONField(
        _("kecamatan boundaries (GeoJSON, property 'kode')"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("regency")
        verbose_name_plural = _("regencies")

    def __str__(self) -> str:
        return self.name


class Opd(models.Model):
    class Kind(models.TextChoices):
        SEKRETARIAT = "sekretariat", _("Secretariat")
        INSPEKTORAT = "inspektorat", _("Inspectorate")
        DINAS = "dinas", _("Dinas")
        BADAN = "badan", _("Badan")
        KANTOR = "kantor", _("Kantor / Satuan")
        RSUD = "rsud", _("Regional hospital")
        KECAMATAN = "kecamatan", _("Kecamatan")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    wilayah_code = models.CharField(_("Kemendagri area code"), max_length=16, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("OPD")
        verbose_name_plural = _("OPD")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A unit kerja: the OPD's own office, a bidang, a UPT, a puskesmas or a school."""

    class Kind(models.TextChoices):
        KANTOR = "kantor", _("Office")
        BIDANG = "bidang", _("Division")
        UPT = "upt", _("UPT")
        PUSKESMAS = "puskesmas", _("Puskesmas")
        SEKOLAH = "sekolah", _("School")

    opd = models.ForeignKey(
        Opd, verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    npsn = models.CharField(_("NPSN"), max_length=8, null=True, blank=True, unique=True)
    kecamatan_code = models.CharField(_("kecamatan code"), max_length=16, blank=True)
    alternative_sites: "models.ManyToManyField[WorkSite, Any]" = models.ManyToManyField(
        "WorkSite",
        verbose_name=_("alternative work sites"),
        blank=True,
        related_name="alternative_for_units",
        help_text=_("Other sites where this unit's staff may also check in."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("work unit")
        verbose_name_plural = _("work units")
        ordering = ["opd__name", "name"]

    def __str__(self) -> str:
        return self.name


class WorkSite(models.Model):
    """A place where check-ins count: a circle around a point, or a polygon."""

    class Shape(models.TextChoices):
        CIRCLE = "circle", _("Circle")
        POLYGON = "polygon", _("Polygon")

    class Quality(models.TextChoices):
        UNCHECKED = "unchecked", _("Not checked yet")
        OK = "ok", _("Inside its kecamatan")
        OUTSIDE_KECAMATAN = "outside_kecamatan", _("Outside its own kecamatan")
        OUTSIDE_REGENCY = "outside_regency", _("Outside the regency")
        UNKNOWN_KECAMATAN = "unknown_kecamatan", _("Kecamatan unknown")
        MISSING = "missing", _("No coordinates")
        VERIFIED = "verified", _("Verified on site")

    FLAGGED = (
        Quality.OUTSIDE_KECAMATAN,
        Quality.OUTSIDE_REGENCY,
        Quality.UNKNOWN_KECAMATAN,
        Quality.MISSING,
    )

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(_("name"), max_length=200)
    shape = models.CharField(_("shape"), max_length=8, choices=Shape.choices, default=Shape.CIRCLE)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )  # fmt: skip
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )  # fmt: skip
    radius_m = models.PositiveIntegerField(
        _("radius (m)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(10), MaxValueValidator(5000)],
        help_text=_("Empty: the policy's default radius."),
    )
    polygon = models.JSONField(_("polygon (GeoJSON)"), null=True, blank=True)
    kecamatan_code = models.CharField(_("kecamatan code"), max_length=16, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=32, choices=TIME_ZONES, default="Asia/Jakarta"
    )
    location_source = models.CharField(_("location source"), max_length=64, blank=True)
    location_approximate = models.BooleanField(
        _("approximate location"),
        default=False,
        help_text=_(
            "The point is a village or kecamatan centre, not the building: verify on site."
        ),
    )
    location_note = models.CharField(_("location note"), max_length=255, blank=True)
    quality = models.CharField(
        _("location check"), max_length=20, choices=Quality.choices, default=Quality.UNCHECKED
    )
    quality_distance_m = models.PositiveIntegerField(_("distance off (m)"), null=True, blank=True)
    quality_message = models.CharField(_("location check note"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("work site")
        verbose_name_plural = _("work sites")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shape="polygon", polygon__isnull=False)
                | Q(shape="circle", polygon__isnull=True),
                name="worksite_shape_matches_geometry",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WorkSiteLocationChange(models.Model):
    """Append-only history of where a site was moved, by whom and how it was measured."""

    class Method(models.TextChoices):
        IMPORT = "import", _("Imported")
        MAP = "map", _("Entered by hand")
        PHONE = "phone", _("Phone position on site")

    site = models.ForeignKey(
        WorkSite, verbose_name=_("work site"), on_delete=models.PROTECT, related_name="moves"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    author = models.ForeignKey(
        "accounts.User", verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    old_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    old_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    new_latitude = models.DecimalField(max_digits=9, decimal_places=6)
    new_longitude = models.DecimalField(max_digits=9, decimal_places=6)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("work-site move")
        verbose_name_plural = _("work-site moves")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.site} → {self.new_latitude}, {self.new_longitude}"


class ScheduleGroup(models.Model):
    """A group of employees that share a working-hours schedule (office, teachers, shifts)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)

    class Meta:
        verbose_name = _("schedule group")
        verbose_name_plural = _("schedule groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):
    class Kind(models.TextChoices):
        PNS = "PNS", "PNS"
        PPPK = "PPPK", "PPPK"

    class Gender(models.TextChoices):
        MALE = "L", _("Male")
        FEMALE = "P", _("Female")

    nip = models.CharField(_("NIP"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=128)
    title_prefix = models.CharField(_("title before name"), max_length=32, blank=True)
    title_suffix = models.CharField(_("title after name"), max_length=64, blank=True)
    kind = models.CharField(_("employee kind"), max_length=4, choices=Kind.choices)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    active = models.BooleanField(_("active"), default=True)
    bank_name = models.CharField(
        _("bank"), max_length=64, blank=True, help_text=_("The bank TPP is paid into.")
    )
    bank_account = models.CharField(
        _("account number"),
        max_length=BANK_ACCOUNT_MAX_DIGITS,
        blank=True,
        validators=[bank_account_validator],
    )

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.nip})"

    def clean(self) -> None:
        if self.bank_account and not self.bank_name.strip():
            raise ValidationError(
                {"bank_name": _("Fill in the bank of the account number as well.")}
            )

    @property
    def full_name(self) -> str:
        name = f"{self.title_prefix} {self.name}".strip()
        return f"{name}, {self.title_suffix}" if self.title_suffix else name


class Assignment(models.Model):
    """Who an employee is from ``valid_from`` up to (not including) ``valid_to``.

    A transfer (mutasi), promotion or new supervisor closes the open row and opens a new
    one; rows are never edited after the fact, so any past day can be reconstructed.
    """

    class JabatanKind(models.TextChoices):
        STRUKTURAL = "struktural", _("Structural")
        FUNGSIONAL = "fungsional", _("Functional")
        PELAKSANA = "pelaksana", _("General staff")

    employee = models.ForeignKey(
        Employee, verbose_name=_("employee"), on_delete=models.PROTECT, related_name="assignments"
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until (exclusive)"), null=True, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments"
    )
    # Denormalised from unit.opd: OPD scoping is the hottest filter in Tepat.
    opd = models.ForeignKey(
        Opd, verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="assignments"
    )
    supervisor = models.ForeignKey(
        Employee,
        verbose_name=_("direct supervisor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_assignments",
    )
    jabatan = models.CharField(_("position"), max_length=200)
    jabatan_kind = models.CharField(_("position kind"), max_length=12, choices=JabatanKind.choices)
    kelas_jabatan = models.PositiveSmallIntegerField(
        _("job class"), validators=[MinValueValidator(1), MaxValueValidator(17)]
    )
    golongan = models.CharField(_("golongan"), max_length=8)
    schedule_group = models.ForeignKey(
        ScheduleGroup,
        verbose_name=_("schedule group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["employee", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee"],
                condition=Q(valid_to__isnull=True),
                name="assignment_one_open_per_employee",
            ),
            models.UniqueConstraint(
                fields=["employee", "valid_from"], name="assignment_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="assignment_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(kelas_jabatan__gte=1) & Q(kelas_jabatan__lte=17),
                name="assignment_kelas_range",
            ),
        ]
        indexes = [
            models.Index(fields=["opd", "valid_from", "valid_to"], name="assignment_opd_idx"),
            models.Index(fields=["supervisor", "valid_to"], name="assignment_supervisor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee.nip} {self.unit} {self.valid_from}–{self.valid_to or ''}"
