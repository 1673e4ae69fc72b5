"""The run's fast path (plain rows, COPY on PostgreSQL, chunks in worker processes) stores
exactly what the model-by-model path stored before it: the same amounts, nets, lines,
explanation, inputs and versions for every employee."""

import importlib
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from tepat.accounts.models import Role
from tepat.rules import tpp as rules
from tepat.rules.tpp_policy import PolicyError, TppPolicy, policy_from_yaml
from tepat.tpp import inputs
from tepat.tpp.models import TppResult, TppRun
from tepat.tpp.services import tpp_run_compute, tpp_run_start
from tests.tpp.months import MONTH, YEAR, world_month_store
from tests.world import World, world_build

# A month with something of everything: late and early by every band, TK, a missing
# check-in, an approved absence, less productivity, and a month the verdicts leave incomplete.
VARIED: dict[str, dict[str, Any]] = {
    "kadis": {"minutes": 5000, "days": {date(2026, 11, 3): {"minutes_late": 31}}},
    "principal": {
        "days": {
            date(2026, 11, 4): {"minutes_late": 61, "minutes_early": 5},
            date(2026, 11, 5): {"day_code": "TK", "minutes_late": None, "minutes_early": None},
            date(2026, 11, 6): {"minutes_late": None, "in_code": "TL4"},
        }
    },
    "teacher": {
        "days": {
            date(2026, 11, 9): {"day_code": "cuti_tahunan", "minutes_late": None},
            date(2026, 11, 10): {"minutes_early": 95, "out_code": "PSW4"},
        }
    },
    "teacher2": {"minutes": 7400},
    "nurse": {"last": date(2026, 11, 27)},
}

_COLUMNS = [f.attname for f in TppResult._meta.concrete_fields if not f.primary_key]


def _previous_row(run: TppRun, g: inputs.GatheredMonth, policy: TppPolicy) -> TppResult:
    """The result row exactly as the run built it before the fast path (a model instance, the
    lines through `dataclasses.asdict`), kept here as the reference."""

    def plain(item: Any) -> dict[str, Any]:
        return {
            k: v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v
            for k, v in asdict(item).items()
        }

    row = TppResult(
        run=run,
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
        row.error = exc.message
        row.explanation = [exc.message]
        return row
    for name in (
        "eligible", "working_days", "days_in_post", "basic", "tpp_awal", "discipline_share",
        "discipline_deduction_percent", "discipline_paid", "productivity_share",
        "productivity_percent", "productivity_paid", "sanction_cut", "plt_paid", "gross", "net",
    ):  # fmt: skip
        setattr(row, name, getattr(result, name))
    row.withholdings = sum((w.rupiah for w in result.withholdings), Decimal(0))
    row.lines = {
        "basic_segments": [plain(s) for s in result.basic_segments],
        "deductions": [plain(d) for d in result.deductions],
        "caps": [plain(c) for c in result.caps],
        "withholdings": [plain(w) for w in result.withholdings],
    }
    row.explanation = [*result.explanation, *g.notes]
    return row


def _stored(run: TppRun) -> dict[int, dict[str, Any]]:
    """Every stored field of the run's results but the run, by employee."""
    found = {}
    for row in TppResult.objects.filter(run=run).values(*_COLUMNS):
        del row["run_id"]
        found[row["employee_id"]] = row
    return found


def _computed(world: World, **options: Any) -> TppRun:
    run = tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)
    return tpp_run_compute(run.pk, **options)


def test_every_stored_field_is_what_the_model_path_stored(world: World) -> None:
    world_month_store(world, **VARIED)
    run = _computed(world, chunk=4)
    assert (run.progress_done, run.progress_total, run.error_count) == (6, 6, 1)
    policy = policy_from_yaml(run.policy.definition)
    reference = tpp_run_start(actor=None, year=YEAR, month=MONTH, enqueue=False)
    ids = inputs.employee_ids_in_month(YEAR, MONTH)
    TppResult.objects.bulk_create(
        _previous_row(reference, g, policy)
        for g in inputs.employee_months_gather(YEAR, MONTH, ids, policy)
    )
    fast, previous = _stored(run), _stored(reference)
    assert len(fast) == 6
    assert fast == previous
    nets = {r.employee_id: r.net for r in TppResult.objects.filter(run=run)}
    assert nets[world.nurse.pk] == 0
    assert len(set(nets.values())) > 3  # the varied months pay differently


# The processes are asked for: the run would not fork from a test worker, which runs threads
# (pytest-xdist's), and Python warns that forking one could deadlock; these tests' children
# touch nothing those threads hold.
FORKED = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


@pytest.fixture
def shipped_policies() -> None:
    """The shipped TPP policies, as their data migration installs them: these tests commit, and
    what another committing test left in the database before them must not decide whether a
    policy is in force (get_or_create: nothing changes where they are already there)."""
    ship = importlib.import_module("tepat.tpp.migrations.0002_ship_kaur_and_ttu_policies").ship
    ship(apps, None)


@FORKED
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("shipped_policies")
def test_worker_processes_store_what_one_process_stores() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes compute a run on PostgreSQL only")
    world = world_build()
    world_month_store(world, **VARIED)
    alone = _computed(world, chunk=2, processes=1)
    shared = _computed(world, chunk=2, processes=2)
    assert (shared.status, shared.progress_done, shared.error_count) == (
        TppRun.Status.COMPUTED, 6, 1,
    )  # fmt: skip
    assert _stored(shared) == _stored(alone)


@FORKED
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("shipped_policies")
def test_a_failing_worker_fails_the_run_and_leaves_no_results(monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes compute a run on PostgreSQL only")
    world = world_build()
    world_month_store(world)
    gather = inputs.employee_months_gather

    def broken_for_the_nurse(year: int, month: int, ids: Any, policy: Any) -> Any:
        if world.nurse.pk in ids:
            raise RuntimeError("database went away")
        return gather(year, month, ids, policy)

    monkeypatch.setattr("tepat.tpp.inputs.employee_months_gather", broken_for_the_nurse)
    run = tpp_run_start(actor=world.users[Role.ADMIN_BKPSDM], year=YEAR, month=MONTH, enqueue=False)
    with pytest.raises(RuntimeError):
        tpp_run_compute(run.pk, chunk=1, processes=2)
    run.refresh_from_db()
    assert run.status == TppRun.Status.FAILED
    assert "database went away" in run.failure
    assert not TppResult.objects.filter(run=run).exists()
