"""The attendance ledger and what feeds it: phones (devices, app tokens) and the policy.

``CheckinEvent`` is append-only. Every source (phone, fingerprint machine, operator) writes a
new row with an idempotency key; nothing is updated or deleted. A supervisor's decision on a
flagged row is a ``CheckinReview`` row, a correction a new event pointing at what it corrects.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.org.models import TIME_ZONES
from tepat.rules.leave import REQUEST_LABELS


class PresencePolicy(models.Model):
    """Effective-dated thresholds for phone check-ins, edited by BKPSDM without a deploy."""

    valid_from = models.DateField(_("valid from"), unique=True)
    name = models.CharField(_("name"), max_length=128)
    legal_basis = models.CharField(_("legal basis"), max_length=255)
    default_radius_m = models.PositiveIntegerField(
        _("default radius (m)"), validators=[MinValueValidator(10), MaxValueValidator(5000)]
    )
    max_accuracy_m = models.PositiveIntegerField(
        _("accuracy limit for review (m)"),
        validators=[MinValueValidator(5), MaxValueValidator(5000)],
        help_text=_("A fix less precise than this goes to the supervisor's review."),
    )
    refuse_accuracy_m = models.PositiveIntegerField(
        _("accuracy limit for refusal (m)"),
        validators=[MinValueValidator(5), MaxValueValidator(20000)],
        help_text=_("A fix less precise than this is refused: it says nothing about the place."),
    )
    offline_max_age_hours = models.PositiveIntegerField(
        _("latest offline sync (hours)"), validators=[MinValueValidator(1)]
    )
    clock_skew_max_s = models.PositiveIntegerField(_("allowed phone clock skew (s)"))
    max_speed_kmh = models.PositiveIntegerField(
        _("fastest plausible travel (km/h)"), validators=[MinValueValidator(1)]
    )
    position_max_age_s = models.PositiveIntegerField(_("oldest usable GPS fix (s)"))
    # At most a day: the check-in's risk checks read an employee's recent fixes up to a day
    # ahead of the request (checkin_sql._recent_window).
    future_tolerance_s = models.PositiveIntegerField(
        _("tolerance for a check-in time in the future (s)"),
        default=120,
        validators=[MaxValueValidator(86400)],
    )
    selfie_required = models.BooleanField(_("selfie required at check-in"), default=False)
    # Attendance machines' health signals (tepat.presence.machines).
    machine_silent_after_min = models.PositiveIntegerField(
        _("machine offline after (minutes)"),
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(1440)],
        help_text=_(
            "An attendance machine that has not called Tepat for this long during the watch "
            "hours shows as offline."
        ),
    )
    machine_watch_from = models.TimeField(
        _("machines watched from"),
        default=datetime.time(7),
        help_text=_(
            "Silence is a signal only on working days between these two times, in the "
            "machine's own time zone."
        ),
    )
    machine_watch_until = models.TimeField(_("machines watched until"), default=datetime.time(16))
    machine_clock_drift_max_s = models.PositiveIntegerField(
        _("allowed machine clock error (s)"),
        default=300,
        validators=[MinValueValidator(30), MaxValueValidator(3600)],
        help_text=_("A machine whose clock runs ahead of the server by more than this is flagged."),
    )

    class Meta:
        verbose_name = _("presence policy")
        verbose_name_plural = _("presence policies")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refuse_accuracy_m__gte=models.F("max_accuracy_m")),
                name="presencepolicy_refusal_above_review",
            ),
            models.CheckConstraint(
                condition=models.Q(machine_watch_until__gt=models.F("machine_watch_from")),
                name="presencepolicy_machine_watch_order",
                violation_error_message=_("The machine watch hours must end after they start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%d-%m-%Y})"


class PhoneDevice(models.Model):
    """A phone's signing key, bound to one employee. One active device per employee."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING = "pending", _("Waiting for approval")
        REVOKED = "revoked", _("Revoked")

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="devices",
        db_index=False,  # phonedevice_unique_key_per_employee leads with the employee
    )
    # Indexed in Meta (phonedevice_key_idx), not with db_index: the shared-key look-up is an
    # equality, and db_index would add a second, LIKE-capable copy on PostgreSQL.
    key_fingerprint = models.CharField(_("key fingerprint"), max_length=64)
    public_key = models.TextField(_("public key (SPKI, base64)"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "key_fingerprint"], name="phonedevice_unique_key_per_employee"
            ),
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(status="active"),
                name="phonedevice_one_active_per_employee",
            ),
        ]
        indexes = [models.Index(fields=["key_fingerprint"], name="phonedevice_key_idx")]

    def __str__(self) -> str:
        return f"{self.employee.nip} {self.label[:40]} ({self.status})"


class AppToken(models.Model):
    """A bearer token for the phone app. Only its SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(PhoneDevice, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("app token")
        verbose_name_plural = _("app tokens")

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"


class CheckinEvent(models.Model):
    class Kind(models.TextChoices):
        IN = "in", _("Check-in")
        OUT = "out", _("Check-out")

    class Source(models.TextChoices):
        PHONE = "phone", _("Phone")
        MACHINE = "machine", _("Attendance machine")
        OPERATOR = "operator", _("Operator entry")
        CORRECTION = "correction", _("Approved correction (forgotten punch)")

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REVIEW = "review", _("Waiting for review")
        REFUSED = "refused", _("Refused")

    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    # No index of its own: checkin_employee_time_idx (employee, taken_at) serves every
    # look-up by employee (migration 0013).
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    taken_at = models.DateTimeField(_("time"))
    device_taken_at = models.DateTimeField(_("time on the device clock"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    site = models.ForeignKey(
        "org.WorkSite",
        verbose_name=_("work site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    distance_m = models.FloatField(_("distance (m)"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    # Indexed with seq (checkin_device_seq_idx): the replay guard's look-up.
    device = models.ForeignKey(
        PhoneDevice,
        verbose_name=_("phone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    seq = models.BigIntegerField(_("device sequence"), null=True, blank=True)
    risk_flags = models.JSONField(_("risk flags"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    # author and corrects: indexed only where set (checkin_author_idx, checkin_corrects_idx),
    # so a phone check-in or a machine punch (neither has them) writes no entry for them.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reason = models.TextField(_("reason"), blank=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        db_index=False,
    )
    payload = models.JSONField(_("payload as received"), default=dict)
    selfie = models.CharField(_("selfie (private file)"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("check-in event")
        verbose_name_plural = _("check-in events")
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "taken_at"], name="checkin_employee_time_idx"),
            models.Index(fields=["device", "seq"], name="checkin_device_seq_idx"),
            models.Index(
                fields=["author"],
                condition=models.Q(author__isnull=False),
                name="checkin_author_idx",
            ),
            models.Index(
                fields=["corrects"],
                condition=models.Q(corrects__isnull=False),
                name="checkin_corrects_idx",
            ),
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="review"),
                name="checkin_review_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.kind} {self.taken_at:%Y-%m-%d %H:%M} {self.status}"


class CheckinKey(models.Model):
    """Every idempotency key the ledger ever took, with its row: the global uniqueness of
    ``CheckinEvent.idempotency_key`` on PostgreSQL.

    A unique index on a partitioned table must contain the partition key, and a replayed
    check-in need not carry the same ``taken_at``. So on PostgreSQL the ledger's insert trigger
    claims the key here first and skips the row (as ON CONFLICT DO NOTHING would) when the key
    is taken. On SQLite the ledger is one plain table with a unique index and this table stays
    empty. Written only by that trigger; kept when a month is detached for archiving, so a
    replay of an archived check-in is still recognised.
    """

    idempotency_key = models.CharField(_("idempotency key"), max_length=100, primary_key=True)
    event_id = models.BigIntegerField(_("event"))
    taken_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("check-in idempotency key")
        verbose_name_plural = _("check-in idempotency keys")

    def __str__(self) -> str:
        return self.idempotency_key


class CheckinReview(models.Model):
    """A supervisor's or BKPSDM's decision on a flagged event. The event itself never changes."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", _("Accept")
        REJECT = "reject", _("Reject")

    event = models.ForeignKey(CheckinEvent, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(_("decision"), max_length=6, choices=Decision.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("check-in review")
        verbose_name_plural = _("check-in reviews")

    def __str__(self) -> str:
        return f"{self.event_id} {self.decision}"


class ScheduleVersion(models.Model):
    """One effective-dated version of a schedule group's working hours (policy data).

    ``definition`` is the JSON form read by ``tepat.rules.schedule_data``; the service that
    saves it validates it, so the teachers' check-out moving from 16:00 to 14:00 is a new
    version from a date, never a code change.
    """

    group = models.ForeignKey(
        "org.ScheduleGroup",
        verbose_name=_("schedule group"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=128)
    legal_basis = models.CharField(_("legal basis"), max_length=255)
    definition = models.JSONField(_("definition"))

    class Meta:
        verbose_name = _("schedule version")
        verbose_name_plural = _("schedule versions")
        ordering = ["group", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "valid_from"], name="scheduleversion_unique_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%d-%m-%Y})"


class DatedPolicyVersion(models.Model):
    """Policy data in force from a date, one version per date, with its legal basis; the JSON
    definition is validated by the rules core before a service saves it."""

    valid_from = models.DateField(_("valid from"), unique=True)
    name = models.CharField(_("name"), max_length=128)
    legal_basis = models.CharField(_("legal basis"), max_length=255)
    definition = models.JSONField(_("definition"))

    class Meta:
        abstract = True
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%d-%m-%Y})"


class BandsVersion(DatedPolicyVersion):
    """TL/PSW lateness bands in force from a date (policy data, JSON per rules.schedule_data)."""

    class Meta(DatedPolicyVersion.Meta):
        verbose_name = _("lateness bands")
        verbose_name_plural = _("lateness bands")


class CalendarEntry(models.Model):
    """A regency-level change to the national calendar, dated, with its legal basis."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Regency day off")
        CANCELLATION = "cancellation", _("Holiday cancelled (working day)")
        SCHOOL_HOLIDAY = "school_holiday", _("School holiday")
        PERIOD = "period", _("Special working-hours period (e.g. Ramadan)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    name = models.CharField(_("name"), max_length=128)
    code = models.CharField(
        _("period code"), max_length=32, blank=True, help_text=_("For periods, e.g. ramadan.")
    )
    legal_basis = models.CharField(_("legal basis"), max_length=255)

    class Meta:
        verbose_name = _("calendar entry")
        verbose_name_plural = _("calendar entries")
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="calendarentry_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.first_day:%d-%m-%Y})"


class ScheduleException(models.Model):
    """A per-employee exception to the group's schedule for one day: a shift taken from a
    schedule in force (a teacher on office hours, a nurse's roster entry, the Saturday of a
    swapped day) or a day off. The shift is stored as entered, so a later schedule version
    never changes a day already planned."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique (employee, day) index serves the look-ups by employee
    )
    day = models.DateField(_("day"))
    group = models.ForeignKey(
        "org.ScheduleGroup",
        verbose_name=_("schedule the shift comes from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shift = models.JSONField(_("shift (empty: day off)"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        ordering = ["day", "employee_id"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "day"], name="scheduleexception_unique")
        ]
        # The nightly verdict, the period rebuild and the live dashboard read the exceptions
        # of a few days for everyone (`schedule_exceptions_around` without employees,
        # `monitor.live.exception_marks`): the unique index leads with the employee and
        # cannot serve a range of days alone (docs/scale.md).
        indexes = [models.Index(fields=["day", "employee"], name="scheduleexception_day_idx")]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} {(self.shift or {}).get('code', 'LIBUR')}"


class AttendanceDay(models.Model):
    """The verdict for one employee and day, derived from the ledger; rebuilt at will."""

    # A month's rebuild writes 3 million rows for a province, so each index and foreign-key
    # check on this table is paid millions of times: the employee is found through
    # `attendanceday_unique` (employee, day), no query looks rows up by schedule or bands
    # version, and those two are checked by the ORM (PROTECT) rather than by a trigger per row
    # (versions are policy data and are never deleted; docs/performance.md).
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    day = models.DateField(_("day"))
    day_code = models.CharField(_("day code"), max_length=24)
    in_code = models.CharField(_("arrival code"), max_length=8, blank=True)
    out_code = models.CharField(_("departure code"), max_length=8, blank=True)
    minutes_late = models.PositiveIntegerField(_("minutes late"), null=True, blank=True)
    minutes_early = models.PositiveIntegerField(_("minutes early"), null=True, blank=True)
    first_in = models.DateTimeField(_("first check-in"), null=True, blank=True)
    last_out = models.DateTimeField(_("last check-out"), null=True, blank=True)
    schedule = models.ForeignKey(
        ScheduleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    bands = models.ForeignKey(
        BandsVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    explanation = models.JSONField(_("explanation"), default=list)
    rules_version = models.CharField(_("rules version"), max_length=32)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("attendance day")
        verbose_name_plural = _("attendance days")
        constraints = [
            models.UniqueConstraint(fields=["employee", "day"], name="attendanceday_unique")
        ]
        indexes = [
            models.Index(fields=["day", "day_code"], name="attendanceday_day_idx"),
            # The discipline list and report start from the TK days of a year (one in a
            # hundred rows or fewer): without it they read the whole year of a province
            # (docs/performance.md, "Recap and discipline pages").
            models.Index(
                fields=["employee", "day"],
                condition=models.Q(day_code="TK"),
                name="attendanceday_tk_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} {self.day_code} {self.in_code} {self.out_code}"


# --- Attendance machines (fingerprint / face terminals) ------------------------------------


class Machine(models.Model):
    """A fingerprint or face terminal, known by its serial number and pinned to a unit.

    A serial Tepat has never seen is recorded as quarantined and answered harmlessly until
    BKPSDM or the unit's OPD operator accepts it; a retired machine is answered the same way.
    """

    class Status(models.TextChoices):
        QUARANTINED = "quarantined", _("Quarantined (unknown serial)")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    class Vendor(models.TextChoices):
        ZKTECO = "zkteco", _("ZKTeco push (ADMS / iclock)")
        FINGERSPOT = "fingerspot", _("Fingerspot cloud webhook")
        USB = "usb", _("USB file only")

    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    vendor = models.CharField(
        _("protocol"), max_length=12, choices=Vendor.choices, default=Vendor.ZKTECO
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
    )
    site = models.ForeignKey(
        "org.WorkSite",
        verbose_name=_("work site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=32,
        choices=TIME_ZONES,
        default="Asia/Jakarta",
    )
    status_map = models.JSONField(
        _("punch status table"),
        default=dict,
        blank=True,
        help_text=_('Only where the firmware differs, e.g. {"0": "in", "1": "out"}.'),
    )
    comm_key_hash = models.CharField(_("device key (SHA-256)"), max_length=64, blank=True)
    webhook_secret_hash = models.CharField(
        _("webhook secret (SHA-256)"), max_length=64, blank=True, db_index=True
    )
    network_lock = models.BooleanField(
        _("hold punches from an unconfirmed network for review"), default=False
    )
    networks = models.JSONField(_("confirmed networks"), default=list, blank=True)
    encoding = models.CharField(_("text encoding"), max_length=16, blank=True)
    device_options = models.JSONField(_("device options"), default=dict, blank=True)
    info = models.JSONField(_("device info"), default=dict, blank=True)
    enrolled = models.JSONField(_("users on the machine (PIN → name)"), default=dict, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    last_ip = models.GenericIPAddressField(_("last address"), null=True, blank=True)
    clock_offset_s = models.IntegerField(
        _("clock offset (s, server minus machine)"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("attendance machine")
        verbose_name_plural = _("attendance machines")
        ordering = ["serial"]

    def __str__(self) -> str:
        return f"{self.serial} {self.name}".strip()


class MachineUpload(models.Model):
    """A body exactly as a machine (or a USB file) delivered it, stored before parsing, so a
    line that cannot be read is kept and shown, never lost."""

    class Source(models.TextChoices):
        PUSH = "push", _("Push (iclock)")
        USB = "usb", _("USB file")
        FINGERSPOT = "fingerspot", _("Fingerspot webhook")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received, not processed")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed (the machine resends)")
        DRY_RUN = "dry_run", _("Checked only (dry run)")

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="uploads")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    table = models.CharField(_("table"), max_length=16)
    query = models.CharField(_("query string"), max_length=500, blank=True)
    body = models.BinaryField(_("body as received"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"))
    remote_ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.RECEIVED
    )
    lines = models.PositiveIntegerField(_("lines"), default=0)
    new = models.PositiveIntegerField(_("new punches"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    unmapped = models.PositiveIntegerField(_("unmapped PINs"), default=0)
    rejected = models.PositiveIntegerField(_("unreadable lines"), default=0)
    problems = models.JSONField(_("lines with a problem"), default=list, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("machine upload")
        verbose_name_plural = _("machine uploads")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["machine", "received_at"], name="machineupload_time_idx")]

    def __str__(self) -> str:
        return f"{self.machine_id} {self.table} {self.received_at:%Y-%m-%d %H:%M} {self.state}"


class MachinePunch(models.Model):
    """Every distinct punch a machine reported, mapped to an employee or not. Unique on the
    idempotency key (serial, PIN, time, status, verify): a resent batch adds nothing. A mapped
    punch has a ledger event with the same key."""

    class Problem(models.TextChoices):
        NONE = "", _("None")
        UNMAPPED = "unmapped", _("PIN not mapped to an employee")
        OTHER_OPD = "other_opd", _("Employee not in this machine's OPD")

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="punches")
    upload = models.ForeignKey(MachineUpload, on_delete=models.PROTECT, related_name="punches")
    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    pin = models.CharField(_("PIN"), max_length=24)
    device_time = models.CharField(_("time on the machine"), max_length=19)
    taken_at = models.DateTimeField(_("time"))
    status = models.SmallIntegerField(_("status code"))
    verify = models.SmallIntegerField(_("verify code"))
    workcode = models.CharField(_("work code"), max_length=24, blank=True)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    problem = models.CharField(
        _("problem"), max_length=10, choices=Problem.choices, default="", blank=True
    )

    class Meta:
        verbose_name = _("machine punch")
        verbose_name_plural = _("machine punches")
        indexes = [
            models.Index(fields=["machine", "device_time"], name="machinepunch_device_time_idx"),
            models.Index(
                fields=["machine", "pin"],
                condition=~models.Q(problem=""),
                name="machinepunch_problem_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine_id} {self.pin} {self.device_time}"


class PinMapping(models.Model):
    """Device PIN → employee, for one machine or (machine empty) for the whole regency.
    Without a row, a PIN equal to an employee's NIP maps to that employee."""

    machine = models.ForeignKey(
        Machine,
        verbose_name=_("machine"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pin_mappings",
    )
    pin = models.CharField(_("PIN"), max_length=24)
    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("PIN mapping")
        verbose_name_plural = _("PIN mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["machine", "pin"],
                condition=models.Q(machine__isnull=False),
                name="pinmapping_unique_per_machine",
            ),
            models.UniqueConstraint(
                fields=["pin"],
                condition=models.Q(machine__isnull=True),
                name="pinmapping_unique_regency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine_id or '*'} {self.pin} → {self.employee_id}"


class MachineCommand(models.Model):
    """A command queued for a machine (allow-listed, with its author), sent on its next poll."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed on the machine")
        CANCELLED = "cancelled", _("Cancelled before it was sent")

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="commands")
    kind = models.CharField(_("kind"), max_length=20)
    text = models.TextField(_("command"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="queued")
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Whose user record the command adds or removes (a join or a transfer)."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("queued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    not_before = models.DateTimeField(
        _("not before"),
        null=True,
        blank=True,
        help_text=_("Held until this moment, e.g. the first day of a transfer."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    done_at = models.DateTimeField(_("answered"), null=True, blank=True)
    return_code = models.IntegerField(_("return code"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("machine command")
        verbose_name_plural = _("machine commands")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["machine", "id"],
                condition=models.Q(state="queued"),
                name="machinecommand_queue_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.machine_id} {self.kind} {self.state}"


class MachineFlag(models.Model):
    """A tamper or health signal on a machine, open until someone resolves it."""

    class Kind(models.TextChoices):
        NEW_NETWORK = "new_network", _("Called from a new network")
        BAD_KEY = "bad_key", _("Wrong device key")
        TIME_SET = "time_set", _("Clock set on the machine (OPLOG 21)")
        FACTORY_RESET = "factory_reset", _("Factory reset (OPLOG 22)")
        LOGS_DELETED = "logs_deleted", _("Logs deleted on the machine (OPLOG 23)")
        CLOCK_DRIFT = "clock_drift", _("Machine clock drifts")
        SILENT = "silent", _("Silent for too long")
        PIN_REMAP = "pin_remap", _("PIN re-mapped to another person")
        COUNT_MISMATCH = "count_mismatch", _("Machine holds punches Tepat lacks")
        RECORDS_DROPPED = "records_dropped", _("Punch count on the machine went down")

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    raised_at = models.DateTimeField(_("raised"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.CharField(_("resolution"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("machine flag")
        verbose_name_plural = _("machine flags")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(
                fields=["machine", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="machineflag_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.machine_id} {self.kind} {self.raised_at:%Y-%m-%d %H:%M}"


class LeavePolicyVersion(DatedPolicyVersion):
    """Who may ask for which leave, for how long, with what evidence (policy data, JSON per
    ``tepat.rules.leave``). Without a row, the policy shipped with Tepat applies."""

    class Meta(DatedPolicyVersion.Meta):
        verbose_name = _("leave policy")
        verbose_name_plural = _("leave policies")


class AbsenceRequest(models.Model):
    """A request for leave, a permit, an official trip or a forgotten punch ("lupa absen").

    What the employee (or an operator on their behalf) filed is never edited: decisions are
    ``AbsenceDecision`` rows, and only ``status``/``level_done``/``decided_at`` move forward.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired (not decided in time)")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(_("type"), max_length=24)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    starts_at = models.DateTimeField(_("from (part of a day)"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until (part of a day)"), null=True, blank=True)
    checkin_kind = models.CharField(
        _("forgotten punch"), max_length=3, choices=CheckinEvent.Kind.choices, blank=True
    )
    checkin_at = models.DateTimeField(_("time of the forgotten punch"), null=True, blank=True)
    days = models.PositiveIntegerField(_("days"))
    reason = models.TextField(_("reason"))
    evidence = models.CharField(_("evidence (private file)"), max_length=255, blank=True)
    evidence_type = models.CharField(_("evidence type"), max_length=32, blank=True)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    levels_required = models.PositiveSmallIntegerField(_("approval levels"))
    level_done = models.PositiveSmallIntegerField(_("levels approved"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf = models.BooleanField(_("entered by an operator on behalf"), default=False)
    submitted_at = models.DateTimeField(_("submitted"))
    expires_on = models.DateField(_("expires if undecided on"))
    policy = models.CharField(_("policy version"), max_length=64)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    correction_event = models.ForeignKey(
        CheckinEvent,
        verbose_name=_("ledger event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("absence request")
        verbose_name_plural = _("absence requests")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="absencerequest_range",
            )
        ]
        indexes = [
            models.Index(fields=["employee", "first_day"], name="absence_employee_day_idx"),
            models.Index(fields=["status", "expires_on"], name="absence_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.type} {self.first_day}..{self.last_day} {self.status}"

    @property
    def type_label(self) -> str:
        return REQUEST_LABELS.get(self.type, self.type)


class AbsenceDecision(models.Model):
    """One approval, rejection, expiry or withdrawal of an absence request (append-only)."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        EXPIRE = "expire", _("Expired")
        WITHDRAW = "withdraw", _("Withdrawn")

    request = models.ForeignKey(AbsenceRequest, on_delete=models.PROTECT, related_name="decisions")
    level = models.PositiveSmallIntegerField(_("level"))
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("absence decision")
        verbose_name_plural = _("absence decisions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} L{self.level} {self.decision}"


class PeriodLock(models.Model):
    """A month whose TPP has been fixed: its attendance days are no longer rewritten."""

    month = models.DateField(_("month (first day)"), unique=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked at"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("locked period")
        verbose_name_plural = _("locked periods")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%m-%Y}"


class AttendanceDayChange(models.Model):
    """A verdict that changed after its month was locked: kept for the next period's correction
    instead of rewriting what the locked TPP was computed from."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    locked_code = models.CharField(_("code in the locked period"), max_length=24)
    new_code = models.CharField(_("code after recompute"), max_length=24)
    new_in_code = models.CharField(_("arrival code after recompute"), max_length=8, blank=True)
    new_out_code = models.CharField(_("departure code after recompute"), max_length=8, blank=True)
    explanation = models.JSONField(_("explanation"), default=list)
    found_at = models.DateTimeField(_("found at"))
    settled_in = models.DateField(_("settled in month"), null=True, blank=True)

    class Meta:
        verbose_name = _("change after lock")
        verbose_name_plural = _("changes after lock")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "day"],
                condition=models.Q(settled_in__isnull=True),
                name="attendancedaychange_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} {self.locked_code}→{self.new_code}"
