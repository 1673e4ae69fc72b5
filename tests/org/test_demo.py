"""The demo regency. Loading takes a few seconds, so it is loaded once for this module (and
deleted again at the end); each test reads it inside its own rolled-back transaction."""

import csv
from collections import Counter
from collections.abc import Iterator
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tepat.accounts.access import employees_visible_to
from tepat.accounts.models import Role, User
from tepat.org.demo import (
    DATA_DIR,
    DEMO_PASSWORD,
    DemoSummary,
    demo_regency_generate,
    demo_regency_load,
    demo_regency_reset,
    opd_code_from_singkatan,
    school_name,
)
from tepat.org.models import (
    PNS_GOLONGAN,
    PPPK_GOLONGAN,
    Assignment,
    Employee,
    Opd,
    Regency,
    Unit,
    WorkSite,
)
from tepat.rules.nip import parse_nip

TODAY = date(2026, 11, 23)
SEED = 2026

pytestmark = pytest.mark.django_db


FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[DemoSummary]:
    # The same fast hasher as tests/conftest.py sets per test, which is too late for a
    # module-scoped load: a PBKDF2 hash would not check against an MD5-only setting.
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        summary = demo_regency_load(SEED, today=TODAY)
    yield summary
    with django_db_blocker.unblock():
        demo_regency_reset()


def _open_assignments() -> Any:
    return Assignment.objects.filter(valid_to__isnull=True)


def _dapodik_rows_kept() -> list[dict[str, str]]:
    with (DATA_DIR / "mukomuko_sekolah_dapodik_2019.csv").open(encoding="utf-8") as fh:
        return [
            r
            for r in csv.DictReader(fh)
            if r["bentuk"] in ("SD", "SMP") and r["status"] == "Negeri"
        ]


# --- Size and shape ------------------------------------------------------------------------


def test_it_loads_a_regency_the_size_of_mukomuko(demo: DemoSummary) -> None:
    regency = Regency.objects.get()
    assert (regency.code, regency.name, regency.timezone) == (
        "17.06",
        "Kabupaten Mukomuko",
        "Asia/Jakarta",
    )
    kecamatan_codes = {f["properties"]["kode"] for f in regency.kecamatan_boundaries["features"]}
    assert len(kecamatan_codes) == 15
    assert 3_350 <= Employee.objects.count() <= 3_500
    assert Opd.objects.count() >= 40
    assert Opd.objects.filter(kind=Opd.Kind.KECAMATAN).count() == 15
    assert Opd.objects.filter(kind=Opd.Kind.RSUD).count() == 1
    assert Unit.objects.filter(kind=Unit.Kind.SEKOLAH, npsn__isnull=False).count() >= 150
    assert Unit.objects.filter(kind=Unit.Kind.PUSKESMAS).count() == 17
    assert sum(demo.employees_by_kind.values()) == Employee.objects.count()


def test_opd_codes_are_unique_and_slug_safe(demo: DemoSummary) -> None:
    assert opd_code_from_singkatan("BKD/BPKAD", set()) == "BPKAD"
    assert opd_code_from_singkatan("SATPOL PP", set()) == "SATPOLPP"
    assert opd_code_from_singkatan("RSUD", {"RSUD"}) == "RSUD-2"
    codes = list(Opd.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))
    assert all(c.replace("-", "").replace("_", "").isalnum() for c in codes)
    assert Opd.objects.get(code="BPKAD").kind == Opd.Kind.BADAN


def test_every_opd_has_a_head_office_with_a_placeholder_site(demo: DemoSummary) -> None:
    for opd in Opd.objects.all():
        office = Unit.objects.get(opd=opd, kind=Unit.Kind.KANTOR, parent__isnull=True)
        site = office.sites.get()
        assert site.location_approximate
        assert site.location_note.startswith("Titik sementara")
        assert site.radius_m is None
        assert site.kecamatan_code == ".".join(opd.wilayah_code.split(".")[:3])
    not_found = WorkSite.objects.filter(location_note__contains="belum ditemukan")
    assert not_found.count() == 3  # the three "NOT FOUND" rows of the compiled OPD list


def test_bidang_units_share_their_head_office_site(demo: DemoSummary) -> None:
    bidang = Unit.objects.filter(kind=Unit.Kind.BIDANG)
    assert bidang.exists()
    assert not WorkSite.objects.filter(unit__kind=Unit.Kind.BIDANG).exists()
    assert not bidang.filter(parent__isnull=True).exists()


def test_school_names_are_written_the_official_way() -> None:
    assert school_name("SDN 10 Ipuh") == "SD Negeri 10 Ipuh"
    assert school_name("SD NEGERI 01 XIV KOTO") == "SD Negeri 01 XIV Koto"
    assert school_name("SMPN Satap Mekar Sari") == "SMP Negeri Satap Mekar Sari"


# --- People and NIPs -----------------------------------------------------------------------


def test_every_nip_parses_and_matches_the_employee(demo: DemoSummary) -> None:
    for e in Employee.objects.all():
        parsed = parse_nip(e.nip, today=TODAY, kind=e.kind)
        assert (parsed.kind, parsed.gender, parsed.birth_date) == (e.kind, e.gender, e.birth_date)
        assert 1966 <= e.birth_date.year <= 2001
        age_at_appointment = parsed.appointed.year - e.birth_date.year
        assert age_at_appointment >= 20, e.nip


def test_golongan_and_kelas_fit_the_post(demo: DemoSummary) -> None:
    rows = _open_assignments().select_related("employee", "unit")
    for a in rows:
        allowed = PNS_GOLONGAN if a.employee.kind == Employee.Kind.PNS else PPPK_GOLONGAN
        assert a.golongan in allowed, (a.employee.nip, a.golongan)
        if a.jabatan.startswith("Guru"):
            if a.employee.kind == Employee.Kind.PNS:
                assert "III/a" <= a.golongan <= "IV/b"
            else:
                assert a.golongan == "IX"  # S1 teachers (pppk_golongan.csv)
            assert a.kelas_jabatan in (8, 9)
        if a.jabatan_kind == Assignment.JabatanKind.PELAKSANA:
            assert 5 <= a.kelas_jabatan <= 7
    sekda = rows.get(jabatan="Sekretaris Daerah")
    assert sekda.kelas_jabatan == 15
    heads = rows.filter(supervisor=sekda.employee)
    assert {h.kelas_jabatan for h in heads} <= {12, 13, 14}
    principals = rows.filter(unit__kind=Unit.Kind.SEKOLAH, jabatan__startswith="Kepala")
    assert set(principals.values_list("kelas_jabatan", flat=True)) == {9}


def test_a_quarter_are_pppk_but_never_a_head(demo: DemoSummary) -> None:
    kinds = Counter(Employee.objects.values_list("kind", flat=True))
    share = kinds[Employee.Kind.PPPK] / sum(kinds.values())
    assert 0.2 <= share <= 0.3
    pppk = _open_assignments().filter(employee__kind=Employee.Kind.PPPK)
    assert not pppk.filter(jabatan_kind=Assignment.JabatanKind.STRUKTURAL).exists()
    assert not pppk.filter(jabatan__startswith="Kepala").exists()

    def pppk_share(rows: Any) -> float:
        return rows.filter(employee__kind=Employee.Kind.PPPK).count() / rows.count()

    teachers = _open_assignments().filter(jabatan__startswith="Guru")
    offices = _open_assignments().filter(unit__kind__in=[Unit.Kind.KANTOR, Unit.Kind.BIDANG])
    assert pppk_share(teachers) > pppk_share(offices)


def test_titles_fit_the_job(demo: DemoSummary) -> None:
    rows = _open_assignments().select_related("employee")
    dentists = rows.filter(jabatan__startswith="Dokter Gigi")
    doctors = rows.filter(jabatan__startswith="Dokter ").exclude(jabatan__startswith="Dokter Gigi")
    assert doctors.exists()
    assert dentists.exists()
    assert all(a.employee.title_prefix == "dr." for a in doctors)
    assert all(a.employee.title_prefix == "drg." for a in dentists)
    midwives = rows.filter(jabatan__startswith="Bidan")
    assert all(a.employee.gender == "P" for a in midwives)
    assert all("Keb." in a.employee.title_suffix for a in midwives)
    teachers = rows.filter(jabatan__startswith="Guru Kelas")
    assert all(
        "S.Pd" in a.employee.title_suffix or a.employee.title_prefix in ("Drs.", "Dra.")
        for a in teachers
    )


# --- Assignments and the org chart ---------------------------------------------------------


def test_every_employee_has_exactly_one_open_assignment(demo: DemoSummary) -> None:
    open_count = Counter(_open_assignments().values_list("employee_id", flat=True))
    assert set(open_count) == set(Employee.objects.values_list("id", flat=True))
    assert set(open_count.values()) == {1}
    for a in _open_assignments().select_related("unit"):
        assert a.opd_id == a.unit.opd_id
        assert date(2024, 1, 1) <= a.valid_from <= TODAY


def test_supervisor_chains_reach_the_sekda_without_cycles(demo: DemoSummary) -> None:
    links = dict(_open_assignments().values_list("employee_id", "supervisor_id"))
    roots = [e for e, boss in links.items() if boss is None]
    assert len(roots) == 1
    sekda = roots[0]
    assert _open_assignments().get(employee_id=sekda).jabatan == "Sekretaris Daerah"
    reaches_sekda = {sekda}
    for start in links:
        chain: list[int] = []
        node = start
        while node not in reaches_sekda:
            assert node not in chain, f"cycle through employee {node}"
            chain.append(node)
            node = links[node]
            assert node is not None
            assert node in links
        reaches_sekda.update(chain)
    assert len(reaches_sekda) == len(links)


def test_every_other_opd_head_reports_to_the_sekda(demo: DemoSummary) -> None:
    sekda = _open_assignments().get(supervisor__isnull=True).employee_id
    direct = _open_assignments().filter(supervisor_id=sekda).exclude(opd__code="SETDA")
    assert sorted(direct.values_list("opd__code", flat=True)) == sorted(
        Opd.objects.exclude(code="SETDA").values_list("code", flat=True)
    )
    camat = direct.filter(opd__kind=Opd.Kind.KECAMATAN)
    assert all(a.jabatan.startswith("Camat ") for a in camat)


def test_teachers_work_at_schools_under_their_principal(demo: DemoSummary) -> None:
    by_employee = {a.employee_id: a for a in _open_assignments().select_related("unit")}
    teachers = [a for a in by_employee.values() if a.jabatan.startswith("Guru")]
    assert len(teachers) > 1_200
    for t in teachers:
        assert t.unit.kind == Unit.Kind.SEKOLAH
        principal = by_employee[t.supervisor_id]
        assert principal.unit_id == t.unit_id
        assert principal.jabatan.startswith("Kepala")
        kabid = by_employee[principal.supervisor_id]
        assert kabid.jabatan == "Kepala Bidang Pendidikan Dasar"
    at_schools = _open_assignments().filter(unit__kind=Unit.Kind.SEKOLAH)
    assert set(at_schools.values_list("schedule_group__code", flat=True)) == {"guru"}
    sd_teachers = Counter(t.unit.code for t in teachers if t.unit.code.startswith("SD-"))
    smp_teachers = Counter(t.unit.code for t in teachers if t.unit.code.startswith("SMP-"))
    assert set(sd_teachers.values()) <= set(range(6, 10))
    assert set(smp_teachers.values()) <= set(range(10, 17))


def test_health_staff_work_shifts_under_their_head(demo: DemoSummary) -> None:
    by_employee = {a.employee_id: a for a in _open_assignments().select_related("unit")}
    kadinkes = next(a for a in by_employee.values() if a.jabatan == "Kepala Dinas Kesehatan")
    puskesmas = [a for a in by_employee.values() if a.unit.kind == Unit.Kind.PUSKESMAS]
    for a in puskesmas:
        assert a.schedule_group.code == "shift"
        boss = by_employee[a.supervisor_id]
        if a.jabatan.startswith("Kepala UPTD"):
            assert boss == kadinkes
        else:
            assert boss.unit_id == a.unit_id
            assert boss.jabatan.startswith("Kepala UPTD")
    per_unit = Counter(a.unit_id for a in puskesmas)
    assert set(per_unit.values()) <= set(range(15, 26))
    rsud = [a for a in by_employee.values() if a.opd.kind == Opd.Kind.RSUD]
    assert 170 <= len(rsud) <= 230
    assert sum(a.schedule_group.code == "shift" for a in rsud) >= 140


def test_some_employees_have_a_past_transfer(demo: DemoSummary) -> None:
    closed = Assignment.objects.filter(valid_to__isnull=False).select_related("opd")
    assert 15 <= closed.count() <= 20
    for old in closed:
        new = _open_assignments().select_related("opd").get(employee_id=old.employee_id)
        assert old.valid_to == new.valid_from
        assert old.opd_id != new.opd_id
        assert new.note == f"Mutasi dari {old.opd.name}"
        assert old.supervisor_id is not None


# --- Sites ---------------------------------------------------------------------------------


def test_school_sites_flag_what_dapodik_got_wrong(demo: DemoSummary) -> None:
    rows = _dapodik_rows_kept()
    expected_approximate = sum(r["suggested_source"] != "dapodik" for r in rows)
    schools = WorkSite.objects.filter(unit__kind=Unit.Kind.SEKOLAH)
    assert schools.count() == len(rows)
    assert 0 < schools.filter(location_approximate=True).count() == expected_approximate
    for r in rows:
        site = schools.select_related("unit").get(unit__npsn=r["npsn"])
        assert site.kecamatan_code == site.unit.kecamatan_code == r["kode_kec_kemendagri"]
        assert site.location_note.startswith(("Koordinat Dapodik 2019", "Dapodik 2019"))
    moved = schools.get(unit__npsn="10701334")  # Dapodik put it in V Koto
    assert moved.location_note.startswith("Koordinat Dapodik 2019 berada di kecamatan lain")
    assert "titik tengah desa" in moved.location_note


def test_every_school_may_also_check_in_at_the_education_office(demo: DemoSummary) -> None:
    office_site = WorkSite.objects.get(
        unit__kind=Unit.Kind.KANTOR, unit__opd__name__startswith="Dinas Pendidikan"
    )
    schools = Unit.objects.filter(kind=Unit.Kind.SEKOLAH)
    assert schools.filter(alternative_sites=office_site).count() == schools.count()


def test_every_site_was_checked_against_the_boundaries(demo: DemoSummary) -> None:
    assert not WorkSite.objects.filter(quality=WorkSite.Quality.UNCHECKED).exists()
    assert sum(demo.site_quality.values()) == WorkSite.objects.count() == demo.sites
    assert WorkSite.objects.filter(quality__in=WorkSite.FLAGGED).exists()
    puskesmas = WorkSite.objects.filter(unit__kind=Unit.Kind.PUSKESMAS)
    assert set(puskesmas.values_list("quality", flat=True)) == {WorkSite.Quality.OK}


# --- Logins --------------------------------------------------------------------------------


def test_demo_logins_have_their_roles(demo: DemoSummary) -> None:
    users = {u.username: u for u in User.objects.select_related("employee", "opd").order_by("pk")}
    assert users["admin"].role == Role.SUPERADMIN
    assert users["admin"].is_superuser
    assert users["bkpsdm"].role == Role.ADMIN_BKPSDM
    assert users["bkpsdm"].employee.assignments.get().opd.code == "BKPSDM"
    assert users["auditor"].role == Role.AUDITOR
    assert users["auditor"].employee.assignments.get().opd.code == "INSPEKTORAT"
    operator = users["operator.dindik"]
    assert operator.role == Role.OPERATOR_OPD
    assert operator.opd.name.startswith("Dinas Pendidikan")
    kepala = User.objects.get(role=Role.KEPALA_OPD)
    assert kepala.username == kepala.employee.nip
    assert kepala.opd == operator.opd
    assert kepala.employee.assignments.get().jabatan.startswith("Kepala Dinas Pendidikan")
    staff = {u.username for u in users.values() if u.is_staff}
    assert staff == {"admin", "bkpsdm", "auditor"}
    assert [u.username for u in users.values() if u.is_superuser] == ["admin"]
    assert users["admin"].check_password(DEMO_PASSWORD)
    assert [a.username for a in demo.accounts] == list(users)


def test_the_atasan_and_teacher_logins_work_at_the_same_school(demo: DemoSummary) -> None:
    asn = list(User.objects.filter(role=Role.ASN).order_by("id"))
    assert len(asn) == 2
    principal_user, teacher_user = asn
    principal = principal_user.employee.assignments.get(valid_to__isnull=True)
    teacher = teacher_user.employee.assignments.get(valid_to__isnull=True)
    assert principal.unit.kind == Unit.Kind.SEKOLAH
    assert principal.jabatan.startswith("Kepala")
    assert teacher.unit == principal.unit
    assert teacher.supervisor == principal_user.employee
    assert principal_user.username == principal_user.employee.nip
    visible = set(employees_visible_to(principal_user, TODAY).values_list("id", flat=True))
    same_school = set(
        _open_assignments().filter(unit=principal.unit).values_list("employee_id", flat=True)
    )
    assert visible == same_school


def test_the_opd_operator_sees_exactly_the_education_staff(demo: DemoSummary) -> None:
    operator = User.objects.get(username="operator.dindik")
    visible = set(employees_visible_to(operator, TODAY).values_list("id", flat=True))
    dindik_staff = set(
        _open_assignments().filter(opd=operator.opd).values_list("employee_id", flat=True)
    )
    assert len(dindik_staff) > 1_700
    assert visible == dindik_staff


# --- Determinism ---------------------------------------------------------------------------


def test_generation_is_deterministic_for_a_seed(demo: DemoSummary) -> None:
    first = demo_regency_generate(SEED, today=TODAY)
    again = demo_regency_generate(SEED, today=TODAY)
    assert first.people == again.people
    assert first.assignments == again.assignments
    assert first.units == again.units
    assert [p.nip for p in first.people] == [
        p.nip for p in demo_regency_generate(SEED, today=TODAY).people
    ]
    assert {p.nip for p in first.people} == set(Employee.objects.values_list("nip", flat=True))
    other = demo_regency_generate(SEED + 1, today=TODAY)
    assert {p.nip for p in other.people} != {p.nip for p in first.people}


# --- Commands ------------------------------------------------------------------------------


def test_demo_load_refuses_when_a_regency_exists(demo: DemoSummary) -> None:
    out = StringIO()
    call_command("demo_load", stdout=out)
    assert "sudah ada" in out.getvalue()
    assert Regency.objects.count() == 1


@override_settings(PRODUCTION=True)
def test_demo_load_never_resets_in_production(demo: DemoSummary) -> None:
    with pytest.raises(CommandError, match="production"):
        call_command("demo_load", reset=True, stdout=StringIO())
    assert Employee.objects.count() == sum(demo.employees_by_kind.values())


def test_demo_prints_the_url_and_logins_without_serving(demo: DemoSummary) -> None:
    out = StringIO()
    call_command("demo", no_serve=True, addrport="0.0.0.0:8080", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8080/" in text
    assert "operator.dindik" in text
    assert DEMO_PASSWORD in text
    kepala = User.objects.get(role=Role.KEPALA_OPD)
    assert kepala.username in text


def test_reset_removes_the_demo_regency(demo: DemoSummary) -> None:
    demo_regency_reset()  # rolled back with this test's transaction
    for model in (Regency, Opd, Unit, WorkSite, Employee, Assignment, User):
        assert not model.objects.exists(), model.__name__


@pytest.mark.django_db
def test_every_schedule_group_in_use_has_its_hours_and_a_teacher_gets_a_verdict(
    demo: DemoSummary,
) -> None:
    from datetime import date

    from tepat.presence.attendance import attendance_day_rebuild
    from tepat.presence.models import ScheduleVersion

    used = set(_open_assignments().values_list("schedule_group__code", flat=True))
    assert used <= set(ScheduleVersion.objects.values_list("group__code", flat=True))
    teacher = Employee.objects.get(nip=next(a.username for a in demo.accounts if "Guru" in a.who))
    day = attendance_day_rebuild(teacher, date(2026, 11, 16))
    assert day is not None
    assert day.day_code == "TK"  # the demo has no check-ins yet
    assert day.schedule is not None
    assert day.schedule.group.code == "guru"


def test_the_request_pages_have_pending_approved_and_rejected_samples(
    demo: DemoSummary,
) -> None:
    from tepat.accounts.access import absence_requests_decidable_by
    from tepat.presence.models import AbsenceRequest

    statuses = set(AbsenceRequest.objects.values_list("status", flat=True))
    assert statuses == {"pending", "approved", "rejected"}
    assert AbsenceRequest.objects.filter(on_behalf=True).exists()  # paper forms, by the operator
    assert AbsenceRequest.objects.filter(type="lupa_absen").exists()
    principal = User.objects.filter(role=Role.ASN).order_by("id").first()
    assert absence_requests_decidable_by(principal, TODAY).count() >= 2
