"""The monthly run's heavy part: gather, compute and store the results of a chunk of employees,
and spread the chunks over worker processes.

A chunk is independent of every other (its own queries, its own transaction), so a run of the
whole regency is computed by several processes at once on PostgreSQL: `chunks_store` forks
`workers` processes that each gather, compute and write whole chunks and report back how many
employees they wrote, so the caller can record the progress after each chunk. Rows are built as
plain column values, never model instances, and written with COPY on PostgreSQL
(`bulk_create` elsewhere); every stored field is the same either way.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from tepat import chunk_processes
from tepat.rules import tpp as rules
from tepat.rules.tpp_policy import PolicyError, TppPolicy, policy_from_yaml
from tepat.tpp import inputs, submissions
from tepat.tpp.models import TppAdjustment, TppResult

_AMOUNTS = (
    "eligible", "working_days", "days_in_post", "basic", "tpp_awal", "discipline_share",
    "discipline_deduction_percent", "discipline_paid", "productivity_share",
    "productivity_percent", "productivity_paid", "sanction_cut", "plt_paid", "gross", "net",
)  # fmt: skip
_JSON = frozenset({"lines", "explanation", "inputs"})


@dataclass(frozen=True)
class RunJob:
    """What a worker needs to compute chunks of one run (plain values: it crosses processes)."""

    run_id: int
    year: int
    month: int
    definition: str
    """The policy version's YAML, parsed once per chunk."""


@cache
def _columns() -> tuple[str, ...]:
    return tuple(f.attname for f in TppResult._meta.concrete_fields if not f.primary_key)


@cache
def _static_defaults() -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The model's defaults: the plain ones once, the fields whose default is built anew."""
    plain, built = {}, []
    for f in TppResult._meta.concrete_fields:
        if f.primary_key:
            continue
        if callable(f.default):
            built.append(f)
        else:
            plain[f.attname] = f.get_default()
    return plain, tuple(built)


def _defaults() -> dict[str, Any]:
    plain, built = _static_defaults()
    return {**plain, **{f.attname: f.get_default() for f in built}}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(item: Any) -> tuple[str, ...]:
    kind = type(item)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(item))
    return names


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _line(item: Any) -> dict[str, Any]:
    return {name: _plain(getattr(item, name)) for name in _field_names(item)}


def result_lines(result: rules.TppResult) -> dict[str, Any]:
    """The structured lines stored in `TppResult.lines` (dates ISO, amounts as text)."""
    return {
        "basic_segments": [_line(s) for s in result.basic_segments],
        "deductions": [_line(d) for d in result.deductions],
        "caps": [_line(c) for c in result.caps],
        "withholdings": [_line(w) for w in result.withholdings],
    }


def result_values(
    run_id: int,
    g: inputs.GatheredMonth,
    policy: TppPolicy,
    adjustments: Sequence[TppAdjustment] = (),
) -> dict[str, Any]:
    """Every stored field of one employee's result, by column name."""
    row = _defaults()
    row.update(
        run_id=run_id,
        employee_id=g.employee_id,
        opd_id=g.opd_id,
        unit_id=g.unit_id,
        kelas_jabatan=g.kelas_jabatan,
        golongan=g.golongan,
        inputs=inputs.month_snapshot(g),
        policy_name=policy.name,
        policy_version=policy.version,
        rules_version=rules.RULES_VERSION,
    )
    try:
        result = rules.tpp_month_compute(g.month, policy)
    except (rules.TppInputError, PolicyError) as exc:
        row["error"] = exc.message
        row["explanation"] = [exc.message]
        return row
    for name in _AMOUNTS:
        row[name] = getattr(result, name)
    row["withholdings"] = sum((w.rupiah for w in result.withholdings), Decimal(0))
    row["lines"] = result_lines(result)
    row["explanation"] = [*result.explanation, *g.notes]
    if adjustments:
        _adjustments_add(row, adjustments)
    return row


def _adjustments_add(row: dict[str, Any], adjustments: Sequence[TppAdjustment]) -> None:
    """Corrections of earlier locked months are added to the net, each with its own line; a
    net that would fall below zero is not paid but listed for BKPSDM with the reason."""
    lines = submissions.adjustment_lines(adjustments)
    total = sum((a.amount for a in adjustments), Decimal(0))
    before = row["net"]
    row["adjustment"] = total
    row["net"] = before + total
    row["lines"]["adjustments"] = lines
    sign = "+" if total >= 0 else "−"
    row["explanation"] = [
        *row["explanation"],
        *(line["text"] for line in lines),
        f"TPP bersih setelah koreksi: {rules.format_rupiah(before)} {sign} "
        f"{rules.format_rupiah(abs(total))} = {rules.format_rupiah(row['net'])}",
    ]
    if row["net"] < 0:
        row["error"] = (
            f"Koreksi periode terkunci ({rules.format_rupiah(total)}) melebihi TPP bulan ini "
            f"({rules.format_rupiah(before)}); diselesaikan BKPSDM secara manual"
        )
        row["net"] = Decimal(0)


def results_write(rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows: COPY on PostgreSQL, one bulk insert elsewhere. Call in a transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        TppResult.objects.bulk_create([TppResult(**row) for row in rows], batch_size=1000)
        return
    columns = _columns()
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    json_at = [i for i, name in enumerate(columns) if name in _JSON]
    sql = f"COPY {TppResult._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = [row[name] for name in columns]
            for i in json_at:
                values[i] = dumps(values[i])
            copy.write_row(values)


def chunk_store(job: RunJob, employee_ids: Sequence[int]) -> tuple[int, int]:
    """Gather, compute and write one chunk in one transaction: (employees done, errors)."""
    policy = policy_from_yaml(job.definition)
    due = submissions.adjustments_for(job.year, job.month, employee_ids)
    rows = [
        result_values(job.run_id, g, policy, due.get(g.employee_id, []))
        for g in inputs.employee_months_gather(job.year, job.month, employee_ids, policy)
    ]
    with transaction.atomic():
        results_write(rows)
    return len(employee_ids), sum(1 for r in rows if r["error"])


def workers_for(chunks: int) -> int:
    """How many processes compute a run of `chunks` chunks: `TPP_RUN_PROCESSES` (default: the
    machine's cores) where `chunk_processes.workers_for` allows several."""
    return chunk_processes.workers_for(chunks, settings.TPP_RUN_PROCESSES)


def chunks_store(
    job: RunJob, chunks: Sequence[Sequence[int]], workers: int
) -> Iterator[tuple[int, int]]:
    """(employees, errors) of each chunk once it is committed, in the order they finish."""
    return chunk_processes.chunks_map(partial(chunk_store, job), chunks, workers)
