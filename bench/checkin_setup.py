"""Build the benchmark database: a fresh PostgreSQL database, migrated, with a regency of
OPD, units, work sites and N employees, each with a login, an active phone holding an ECDSA
P-256 key of its own, and an app token issued by ``services.token_issue``.

Deterministic for a seed (names, places, keys); only the app tokens are random, as in
production, and are written to ``var/bench/phones.jsonl`` for the signer.

    python -m bench.checkin_setup --employees 30000 --seed 2026
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

from bench import common

N_OPD = 20
FIELD_UNITS_PER_OPD = 15  # schools, puskesmas, UPT: each has a site of its own
BIDANG_PER_OPD = 3  # divisions inside the head office: no site, they use the office's
POLYGON_EVERY = 10  # one site in ten is a GeoJSON polygon, the rest circles
SITE_HALF_SIDE_DEG = 0.0009  # polygon sites: a square about 200 m across
RADIUS_M = 100
BATCH_PHONES = 5  # reserved for the 500-item batch measurement
PROBE_PHONES = 2  # reserved for the in-process query probe


def _recreate_database(name: str = common.DB_NAME) -> None:
    import psycopg

    with psycopg.connect(
        host=common.PG_HOST,
        port=common.PG_PORT,
        user=common.PG_USER,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _site_geometry(rng: random.Random, index: int, cols: int) -> tuple[Decimal, Decimal]:
    """Sites on a grid about 3.5 km apart over the regency, each nudged a little."""
    row, col = divmod(index, cols)
    lat = -2.30 - row * 0.032 - rng.uniform(0, 0.004)
    lng = 101.00 + col * 0.032 + rng.uniform(0, 0.004)
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def _square(lat: float, lng: float) -> dict:
    h = SITE_HALF_SIDE_DEG
    ring = [[lng - h, lat - h], [lng + h, lat - h], [lng + h, lat + h], [lng - h, lat + h]]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def org_build(rng: random.Random, total: int) -> tuple[list, list, list, list, list]:
    """The regency's OPD, units, sites and `total` employees with an assignment each (inside
    the caller's transaction). Returns (opds, units, sites, employees, homes), homes being
    each employee's (unit, the site they go to). The check-in and verdict benches share it."""
    from tepat.org.models import Assignment, Employee, Opd, Unit, WorkSite
    from tepat.rules.nip import make_nip

    opds = Opd.objects.bulk_create(
        [
            Opd(code=f"B{n:02d}", name=f"Dinas Bench {n:02d}", kind=Opd.Kind.DINAS)
            for n in range(N_OPD)
        ]
    )
    offices = Unit.objects.bulk_create(
        [
            Unit(opd=o, code=f"B{n:02d}-KANTOR", name=f"Kantor {o.name}", kind="kantor")
            for n, o in enumerate(opds)
        ]
    )
    bidang = Unit.objects.bulk_create(
        [
            Unit(
                opd=o,
                parent=offices[n],
                code=f"B{n:02d}-BID{b}",
                name=f"Bidang {b} {o.name}",
                kind="bidang",
            )
            for n, o in enumerate(opds)
            for b in range(BIDANG_PER_OPD)
        ]
    )
    field_units = Unit.objects.bulk_create(
        [
            Unit(
                opd=o,
                parent=offices[n],
                code=f"B{n:02d}-F{f:02d}",
                name=f"Unit {f:02d} {o.name}",
                kind="sekolah" if f % 3 else "puskesmas",
            )
            for n, o in enumerate(opds)
            for f in range(FIELD_UNITS_PER_OPD)
        ]
    )
    site_units = [*offices, *field_units]
    cols = 18
    sites = []
    for i, unit in enumerate(site_units):
        lat, lng = _site_geometry(rng, i, cols)
        polygon = _square(float(lat), float(lng)) if i % POLYGON_EVERY == 0 else None
        sites.append(
            WorkSite(
                unit=unit,
                name=f"Lokasi {unit.code}",
                latitude=lat,
                longitude=lng,
                shape="polygon" if polygon else "circle",
                polygon=polygon,
                radius_m=None if polygon else RADIUS_M,
                quality="verified",
            )
        )
    sites = WorkSite.objects.bulk_create(sites)
    site_of_unit = {s.unit_id: s for s in sites}
    # Every field unit may also check in at its OPD's head office (as schools do).
    through = Unit.alternative_sites.through
    through.objects.bulk_create(
        [
            through(unit_id=u.pk, worksite_id=site_of_unit[offices[n // FIELD_UNITS_PER_OPD].pk].pk)
            for n, u in enumerate(field_units)
        ]
    )

    people = []
    homes = []  # (unit, the site the employee goes to)
    for i in range(total):
        if i % 10 == 0:
            unit = rng.choice(bidang)
            site = site_of_unit[unit.parent_id]
        elif i % 10 == 1:
            unit = rng.choice(offices)
            site = site_of_unit[unit.pk]
        else:
            unit = rng.choice(field_units)
            site = site_of_unit[unit.pk]
        homes.append((unit, site))
        gender = "L" if i % 2 else "P"
        birth = date(1970, 1, 1) + timedelta(days=i // 999)
        people.append(
            Employee(
                nip=make_nip("PNS", birth, date(2000, 1 + i % 12, 1), gender, i % 999 + 1),
                name=f"Pegawai Bench {i:05d}",
                kind="PNS",
                gender=gender,
                birth_date=birth,
            )
        )
    people = Employee.objects.bulk_create(people, batch_size=2000)
    Assignment.objects.bulk_create(
        [
            Assignment(
                employee=e,
                valid_from=date(2024, 1, 1),
                unit=unit,
                opd_id=unit.opd_id,
                jabatan="Staf",
                jabatan_kind="pelaksana",
                kelas_jabatan=7,
                golongan="III/a",
            )
            for e, (unit, _site) in zip(people, homes, strict=True)
        ],
        batch_size=2000,
    )
    return opds, [*offices, *bidang, *field_units], sites, people, homes


def build(employees: int, seed: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tepat.accounts.models import Role, User
    from tepat.presence import services
    from tepat.presence.models import PhoneDevice

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.perf_counter() - t0

    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    total = employees + BATCH_PHONES + PROBE_PHONES
    t0 = time.perf_counter()
    with transaction.atomic():
        opds, units, sites, people, homes = org_build(rng, total)
        users = User.objects.bulk_create(
            [
                User(username=e.nip, role=Role.ASN, employee=e, password="!bench-no-password")  # noqa: S106 - unusable
                for e in people
            ],
            batch_size=2000,
        )
    timings["org_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    keys_b64 = [common.public_key_b64(common.phone_key(seed, i)) for i in range(total)]
    fingerprints = [services.key_fingerprint(k) for k in keys_b64]
    if len(set(fingerprints)) != total:
        raise RuntimeError("two phones got the same key")
    timings["keys_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with transaction.atomic():
        devices = PhoneDevice.objects.bulk_create(
            [
                PhoneDevice(
                    employee=e,
                    key_fingerprint=fp,
                    public_key=k,
                    label="bench",
                    status=PhoneDevice.Status.ACTIVE,
                )
                for e, fp, k in zip(people, fingerprints, keys_b64, strict=True)
            ],
            batch_size=2000,
        )
        tokens = [
            services.token_issue(user=u, device=d)[0] for u, d in zip(users, devices, strict=True)
        ]
    timings["tokens_s"] = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")

    common.WORK.mkdir(parents=True, exist_ok=True)
    with common.PHONES_FILE.open("w", encoding="utf-8") as fh:
        for i, (e, d, token, (_unit, site)) in enumerate(
            zip(people, devices, tokens, homes, strict=True)
        ):
            role = (
                "load" if i < employees else ("batch" if i < employees + BATCH_PHONES else "probe")
            )
            fh.write(
                json.dumps(
                    {
                        "index": i,
                        "role": role,
                        "employee_id": e.pk,
                        "device_id": d.pk,
                        "token": token,
                        "site_id": site.pk,
                        "shape": site.shape,
                        "lat": float(site.latitude),
                        "lng": float(site.longitude),
                    }
                )
                + "\n"
            )
    summary = {
        "seed": seed,
        "employees": employees,
        "phones_total": total,
        "opd": len(opds),
        "units": len(units),
        "sites": len(sites),
        "polygon_sites": sum(1 for s in sites if s.polygon),
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    common.SETUP_FILE.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _reusable(employees: int, seed: int) -> dict | None:
    """The previous setup, if it was built for the same seed and size and is still there."""
    if not (common.SETUP_FILE.exists() and common.PHONES_FILE.exists()):
        return None
    summary = json.loads(common.SETUP_FILE.read_text(encoding="utf-8"))
    if summary.get("seed") != seed or summary.get("employees") != employees:
        return None
    import psycopg

    try:
        with psycopg.connect(common.DATABASE_URL, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM presence_apptoken").fetchone()
    except psycopg.Error:
        return None
    return summary if row and row[0] == summary["phones_total"] else None


def reset_ledger() -> None:
    """Empty the ledger (and whatever hangs off it) so every benchmark starts alike."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)  # the code may have gained a migration since
    with connection.cursor() as cur:
        cur.execute("TRUNCATE presence_checkinevent CASCADE")
        cur.execute("DROP TABLE IF EXISTS bench_pgbench_checkin")
        cur.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="rebuild even if reusable")
    args = parser.parse_args(argv)
    if args.employees < 5000:
        parser.error("at least 5,000 employees")
    os.environ.update(common.server_env())
    sys.path.insert(0, str(common.ROOT))
    t0 = time.perf_counter()
    summary = None if args.fresh else _reusable(args.employees, args.seed)
    if summary is not None:
        reset_ledger()
        summary["reused"] = True
        summary["reset_s"] = round(time.perf_counter() - t0, 1)
    else:
        _recreate_database()
        summary = build(args.employees, args.seed)
        summary["reused"] = False
        summary["total_s"] = round(time.perf_counter() - t0, 1)
    common.SETUP_FILE.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
