"""EXPLAIN (ANALYZE, BUFFERS) of the queries the benchmarks drive against the ledger.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tepat_bench_province_peak \\
        python -m bench.ledger_explain [--out var/bench/ledger-explain.md]

Run on a bench database after a benchmark filled it (the morning peak, the verdict bench):
the statements are the ones Tepat sends (the check-in path's SQL text, the verdict's and the
seal's querysets), for the busiest employee, device and day found in the ledger. The plans
show which partitions each reads and by which index (docs/scale.md quotes them).
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Exists, OuterRef, Q

    from tepat.presence import checkin_sql
    from tepat.presence.models import CheckinEvent, CheckinReview

    busiest = (
        CheckinEvent.objects.values("employee_id").annotate(n=Count("id")).order_by("-n").first()
    )
    if busiest is None:
        raise SystemExit("the ledger is empty: run a benchmark first")
    employee_id = busiest["employee_id"]
    last = CheckinEvent.objects.filter(employee_id=employee_id).order_by("-taken_at").first()
    assert last is not None
    zone = ZoneInfo(settings.TIME_ZONE)
    day = last.taken_at.astimezone(zone).date()
    start = datetime.combine(day, time(), zone)
    end = start + timedelta(days=1)
    device = CheckinEvent.objects.filter(device_id__isnull=False).values_list("device_id", "seq")
    device_id, seq = device.first() or (0, 1)
    total = CheckinEvent.objects.count()

    plans: list[tuple[str, str]] = []

    def raw(title: str, sql: str, params: list[object]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            plans.append((title, "\n".join(r[0] for r in cursor.fetchall())))

    def qs(title: str, queryset) -> None:  # type: ignore[no-untyped-def]
        plans.append((title, queryset.explain(analyze=True, buffers=True, costs=False)))

    d = connection.ops.adapt_datefield_value(day)
    window = checkin_sql._recent_window(last.received_at)
    raw(
        "Check-in context (checkin_sql.context_row): the employee's last fixes, seq in use",
        checkin_sql._context_sql(),
        [employee_id, d, d, "-", employee_id, device_id, seq, d, employee_id, "refused", *window],
    )
    qs(
        "Deleting an employee (PROTECT): any event of theirs",
        CheckinEvent.objects.filter(employee_id=employee_id).values("pk")[:1],
    )
    qs(
        "Deleting a user (PROTECT): any event they entered",
        CheckinEvent.objects.filter(author_id__in=[1, 2]).values("pk")[:1],
    )
    qs(
        "The corrections of an event",
        CheckinEvent.objects.filter(corrects_id=last.pk).values("pk"),
    )
    qs(
        "Deleting a phone (PROTECT): any event of it",
        CheckinEvent.objects.filter(device_id=device_id).values("pk")[:1],
    )
    raw(
        "Batch: sequence numbers already used (checkin_sql.seqs_in_ledger)",
        'SELECT "seq" FROM "presence_checkinevent" WHERE "device_id" = %s AND "seq" IN (%s, %s)',
        [device_id, seq, seq + 1],
    )
    qs(
        "Replay: the stored row of an idempotency key (services, after ON CONFLICT skipped it)",
        CheckinEvent.objects.filter(idempotency_key=last.idempotency_key)[:1],
    )
    accepted_review = CheckinReview.objects.filter(event=OuterRef("pk"), decision="accept")
    qs(
        f"Verdict: a day's counted events of every employee ({day})",
        CheckinEvent.objects.filter(taken_at__gte=start, taken_at__lt=end)
        .filter(Q(status="accepted") | Q(Exists(accepted_review)))
        .values_list("employee_id", "taken_at", "kind", "source"),
    )
    qs(
        "Ledger seal: the next 1,000 rows by id (ledger_seal)",
        CheckinEvent.objects.filter(pk__gt=max(0, last.pk - 5000)).order_by("pk")[:1000],
    )
    qs(
        "Review queue: the oldest flagged check-ins",
        CheckinEvent.objects.filter(status="review").order_by("received_at")[:50],
    )
    lines = [f"Ledger rows: {total:,}; employee {employee_id}, day {day}.", ""]
    for title, plan in plans:
        lines += [f"#### {title}", "", "```", plan, "```", ""]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
