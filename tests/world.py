"""One small shared world for the Django tests: two OPD, a school, a supervisor chain and a
login for every role. Tests state what they change on top of it (fixture ``world``)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tepat.accounts.mfa import mfa_required
from tepat.accounts.models import Role, User
from tepat.org.models import Assignment, Employee, Opd, ScheduleGroup, Unit, WorkSite
from tepat.rules.nip import make_nip

PASSWORD = "kata-sandi-uji-yang-panjang"
TODAY = date(2026, 11, 23)


@dataclass
class World:
    dindik: Opd
    dinkes: Opd
    dindik_office: Unit
    school: Unit
    puskesmas: Unit
    school_site: WorkSite
    office_site: WorkSite
    puskesmas_site: WorkSite
    kadis: Employee  # Kepala Dinas Pendidikan
    principal: Employee  # reports to the kadis
    teacher: Employee  # reports to the principal
    teacher2: Employee
    nurse: Employee  # Dinas Kesehatan, outside every Dinas Pendidikan scope
    kadinkes: Employee
    users: dict[str, User]


def _employee(kind: str, serial: int, name: str, gender: str = "L") -> Employee:
    nip = make_nip(
        kind,
        date(1985, 1, 1 + serial % 27),
        date(2010, 3, 1) if kind == "PNS" else date(2022, 1, 1),
        gender,
        serial,
    )
    return Employee.objects.create(
        nip=nip, name=name, kind=kind, gender=gender, birth_date=date(1985, 1, 1 + serial % 27)
    )


def _assign(
    emp: Employee,
    unit: Unit,
    *,
    supervisor: Employee | None,
    kelas: int,
    golongan: str,
    group: ScheduleGroup,
) -> None:
    Assignment.objects.create(
        employee=emp,
        valid_from=date(2024, 1, 1),
        unit=unit,
        opd=unit.opd,
        supervisor=supervisor,
        jabatan="Guru" if unit.kind == Unit.Kind.SEKOLAH else "Staf",
        jabatan_kind=Assignment.JabatanKind.FUNGSIONAL,
        kelas_jabatan=kelas,
        golongan=golongan,
        schedule_group=group,
    )


def _user(
    username: str, role: str, *, opd: Opd | None = None, employee: Employee | None = None
) -> User:
    user = User(
        username=username,
        role=role,
        opd=opd,
        employee=employee,
        is_staff=role in {Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN},
        is_superuser=role == Role.SUPERADMIN,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def world_build() -> World:
    dindik = Opd.objects.create(code="DINDIK", name="Dinas Pendidikan dan Kebudayaan", kind="dinas")
    dinkes = Opd.objects.create(code="DINKES", name="Dinas Kesehatan", kind="dinas")
    office = Unit.objects.create(
        opd=dindik, code="DINDIK-KANTOR", name="Kantor Dinas Pendidikan", kind="kantor"
    )
    school = Unit.objects.create(
        opd=dindik, parent=office, code="SD-10701317", name="SD Negeri 01 Lubuk Pinang",
        kind="sekolah", npsn="10701317", kecamatan_code="17.06.01",
    )  # fmt: skip
    pkm = Unit.objects.create(
        opd=dinkes, code="PKM-LP", name="Puskesmas Lubuk Pinang", kind="puskesmas"
    )
    office_site = WorkSite.objects.create(
        unit=office, name="Kantor Dinas Pendidikan", latitude=Decimal("-2.535230"),
        longitude=Decimal("101.111113"), radius_m=100, kecamatan_code="17.06.02",
    )  # fmt: skip
    school_site = WorkSite.objects.create(
        unit=school, name="SD Negeri 01 Lubuk Pinang", latitude=Decimal("-2.423300"),
        longitude=Decimal("101.166700"), radius_m=100, kecamatan_code="17.06.01",
    )  # fmt: skip
    pkm_site = WorkSite.objects.create(
        unit=pkm, name="Puskesmas Lubuk Pinang", latitude=Decimal("-2.398030"),
        longitude=Decimal("101.173927"), radius_m=100, kecamatan_code="17.06.01",
    )  # fmt: skip
    school.alternative_sites.add(office_site)
    kantor = ScheduleGroup.objects.create(code="kantor-5hk", name="Kantor 5 hari kerja")
    guru = ScheduleGroup.objects.create(code="guru", name="Guru")

    kadis = _employee("PNS", 1, "Hendra Saputra")
    principal = _employee("PNS", 2, "Sri Wahyuni", "P")
    teacher = _employee("PPPK", 3, "Rina Marlina", "P")
    teacher2 = _employee("PNS", 4, "Budi Santoso")
    kadinkes = _employee("PNS", 5, "Yusuf Hidayat")
    nurse = _employee("PNS", 6, "Dewi Lestari", "P")
    _assign(kadis, office, supervisor=None, kelas=14, golongan="IV/c", group=kantor)
    _assign(principal, school, supervisor=kadis, kelas=9, golongan="IV/a", group=guru)
    _assign(teacher, school, supervisor=principal, kelas=8, golongan="IX", group=guru)
    _assign(teacher2, school, supervisor=principal, kelas=8, golongan="III/b", group=guru)
    _assign(kadinkes, pkm, supervisor=None, kelas=14, golongan="IV/c", group=kantor)
    _assign(nurse, pkm, supervisor=kadinkes, kelas=7, golongan="III/a", group=kantor)

    users = {
        Role.ASN: _user(teacher.nip, Role.ASN, employee=teacher),
        "atasan": _user(principal.nip, Role.ASN, employee=principal),
        Role.OPERATOR_OPD: _user("operator.dindik", Role.OPERATOR_OPD, opd=dindik),
        Role.KEPALA_OPD: _user(kadis.nip, Role.KEPALA_OPD, opd=dindik, employee=kadis),
        Role.ADMIN_BKPSDM: _user("bkpsdm", Role.ADMIN_BKPSDM),
        Role.AUDITOR: _user("auditor", Role.AUDITOR),
        Role.SUPERADMIN: _user("admin", Role.SUPERADMIN),
        "operator_other": _user("operator.dinkes", Role.OPERATOR_OPD, opd=dinkes),
    }
    return World(
        dindik=dindik, dinkes=dinkes, dindik_office=office, school=school, puskesmas=pkm,
        school_site=school_site, office_site=office_site, puskesmas_site=pkm_site,
        kadis=kadis, principal=principal, teacher=teacher, teacher2=teacher2, nurse=nurse,
        kadinkes=kadinkes, users=users,
    )  # fmt: skip


def world_schedules_save(world: World) -> None:
    """The teachers' schedule versions (check-out 16:00, then 14:00) and the 5-day office
    week, saved as policy data by BKPSDM."""
    from tepat.presence.attendance import schedule_version_save
    from tepat.rules.schedule import office_five_day_week, teacher_schedules
    from tepat.rules.schedule_data import schedule_to_data

    admin = world.users[Role.ADMIN_BKPSDM]
    for schedule in teacher_schedules():
        schedule_version_save(
            actor=admin,
            group=ScheduleGroup.objects.get(code="guru"),
            definition=schedule_to_data(schedule),
        )
    schedule_version_save(
        actor=admin,
        group=ScheduleGroup.objects.get(code="kantor-5hk"),
        definition=schedule_to_data(office_five_day_week()),
    )


def login(client: Client, user: User, *, verified: bool = True) -> Client:
    """A logged-in session; for a staff role also past the second factor (as after entering
    the app's code), unless ``verified=False``."""
    client.force_login(user, backend="tepat.accounts.backends.RoleBackend")
    if verified and mfa_required(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = mfa_device(user).persistent_id
        session.save()
    return client


def mfa_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator-app device (made on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Tepat", confirmed=True)


def totp_code(user: User) -> str:
    """The code the user's app shows now (the device forgets the last code it accepted, so
    a test may log the same person in twice within 30 seconds)."""
    device = mfa_device(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
