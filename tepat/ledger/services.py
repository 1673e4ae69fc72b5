"""Sealing: the periodic job that extends each hash chain over the rows added since."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tepat.ledger.chains import CHAINS, GENESIS, Chain, chain_hash, row_columns, row_hash
from tepat.ledger.models import Head, Seal

# A row is sealed once it is this old: a transaction still open when the job runs may commit
# a row with a lower id later, which would then be reported as inserted after sealing.
SEAL_DELAY = timedelta(minutes=5)
BATCH = 2000


def ledger_seal(chain: Chain, *, now: datetime | None = None) -> int:
    """Seal every row of ``chain`` older than SEAL_DELAY, in id order; the number sealed."""
    cutoff = (now or timezone.now()) - SEAL_DELAY
    total = 0
    while True:
        sealed = _seal_batch(chain, cutoff)
        total += sealed
        if sealed < BATCH:
            return total


@transaction.atomic
def _seal_batch(chain: Chain, cutoff: datetime) -> int:
    Head.objects.get_or_create(chain=chain.name, defaults={"last_hash": GENESIS})
    head = Head.objects.select_for_update().get(chain=chain.name)
    model = chain.model
    rows = list(
        model.objects.filter(pk__gt=head.last_row_id)  # type: ignore[attr-defined]
        .order_by("pk")
        .values(*row_columns(model), ledger_time=F(chain.time_field))[:BATCH]
    )
    now = timezone.now()
    seals = []
    previous = head.last_hash
    for row in rows:
        time = row.pop("ledger_time")
        if time is None or time >= cutoff:
            break  # this row and the ones after it wait for the next run
        digest = row_hash(row)
        previous = chain_hash(previous, digest)
        seals.append(
            Seal(
                chain=chain.name,
                row_id=row["id"],
                row_hash=digest,
                chain_hash=previous,
                sealed_at=now,
            )
        )
    if seals:
        Seal.objects.bulk_create(seals)
        head.last_row_id = seals[-1].row_id
        head.last_hash = previous
        head.sealed += len(seals)
        head.save()
    return len(seals)


def ledger_seal_all(*, now: datetime | None = None) -> dict[str, int]:
    return {name: ledger_seal(chain, now=now) for name, chain in CHAINS.items()}
