"""Write a month's continuity input files from the database, so `tepat tpp compute` can pay
the month from a laptop with the same amounts if the server is down (docs/continuity.md).

The months are gathered exactly as the monthly run gathers them (`tepat.tpp.inputs`) and
written with the continuity writer (`continuity_inputs_write`): employees, every day's verdict,
approved minutes, sanctions in force, Plt in `pegawai`, and the policy in force as YAML.
An employee whose month cannot be computed (a missing day, say) is left out and named, as the
run would list them with the reason. The continuity format has one list of working days per
folder: when schedules give some people other working days, each group gets a folder of its own.
Corrections of locked months are not part of the format and are named when due.
"""

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.command_args import month_first_day
from tepat.org.models import Employee, Opd
from tepat.rules.tpp import TppInputError, tpp_month_compute
from tepat.rules.tpp_policy import PolicyError
from tepat.tpp import inputs
from tepat.tpp.continuity import ContinuityEmployee, ContinuityEntry, continuity_inputs_write
from tepat.tpp.selectors import jabatan_on
from tepat.tpp.services import CHUNK, tpp_policy_in_force
from tepat.tpp.submissions import adjustments_for


class Command(BaseCommand):
    help = (
        "Tulis berkas masukan mode kontinuitas sebulan dari basis data. "
        "(Write a month's continuity input files.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="Bulan TTTT-BB.")
        parser.add_argument("--out", required=True, type=Path, help="Folder tujuan.")

    def handle(self, *args: Any, **options: Any) -> None:
        first = month_first_day(options["month"])
        year, month = first.year, first.month
        try:
            _version, policy = tpp_policy_in_force(year, month)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        ids = inputs.employee_ids_in_month(year, month)
        if not ids:
            raise CommandError(f"Tidak ada pegawai pada {first:%Y-%m}.")
        _first, last = inputs.month_bounds(year, month)
        people = {e.pk: e for e in Employee.objects.filter(id__in=ids)}
        opds = dict(Opd.objects.values_list("id", "name"))
        posts = jabatan_on(ids, last)
        groups: dict[tuple[date, ...], list[ContinuityEntry]] = defaultdict(list)
        left_out: list[str] = []
        corrections = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            corrections += sum(len(v) for v in adjustments_for(year, month, chunk).values())
            for g in inputs.employee_months_gather(year, month, chunk, policy):
                employee = people[g.employee_id]
                try:
                    tpp_month_compute(g.month, policy)
                except (TppInputError, PolicyError) as exc:
                    left_out.append(f"{employee.nip} {employee.full_name}: {exc.message}")
                    continue
                entry = ContinuityEntry(
                    employee=ContinuityEmployee(
                        nip=employee.nip,
                        name=employee.full_name,
                        opd=opds[g.opd_id],
                        golongan=g.golongan,
                        jabatan=posts.get(g.employee_id, ""),
                        bank_name=employee.bank_name,
                        bank_account=employee.bank_account,
                    ),
                    month=g.month,
                )
                groups[g.month.working_days].append(entry)
        out: Path = options["out"]
        ordered = sorted(groups.values(), key=len, reverse=True)
        folders = [out] if len(ordered) == 1 else [
            out / f"hari_kerja_{n}" for n in range(1, len(ordered) + 1)
        ]  # fmt: skip
        for folder, entries in zip(folders, ordered, strict=True):
            continuity_inputs_write(folder, entries=entries, policy=policy)
            self.stdout.write(f"{folder}: {len(entries)} pegawai")
        for line in left_out:
            self.stderr.write(f"Tidak ditulis (bulan tidak lengkap): {line}")
        if corrections:
            self.stderr.write(
                f"{corrections} koreksi periode terkunci jatuh pada bulan ini dan tidak ada di "
                "berkas: tambahkan ke TPP bersih secara manual."
            )
        self.stdout.write(
            f"{first:%Y-%m}: {sum(len(e) for e in ordered)} pegawai ditulis, "
            f"{len(left_out)} tidak; kebijakan {policy.label}"
        )
