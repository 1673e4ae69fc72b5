"""Verifying a chain: recompute every sealed row's hash and the chain, and name the first row
that differs. Reads only; run it from ``tepat ledger verify`` or a monitoring job."""

from dataclasses import dataclass, field
from typing import Any

from tepat.ledger.chains import GENESIS, Chain, chain_hash, row_columns, row_hash
from tepat.ledger.models import Head, Seal

BATCH = 2000


@dataclass
class Verdict:
    chain: str
    checked: int = 0
    unsealed: int = 0  # rows newer than the head, waiting for the next sealing run
    head_row: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def ledger_verify(chain: Chain, *, anchors: dict[int, str] | None = None) -> Verdict:
    """Walk the seals in row order against the table. ``anchors``: chain hashes copied off
    the server earlier (row id → hash); a chain recomputed by someone with database rights
    still differs from them."""
    head = Head.objects.filter(chain=chain.name).first()
    verdict = Verdict(chain=chain.name)
    if head is not None:
        verdict.head_row, verdict.head_hash = head.last_row_id, head.last_hash
    model = chain.model
    rows_of = model.objects.order_by("pk").values(*row_columns(model))  # type: ignore[attr-defined]
    previous, after = GENESIS, 0
    while not verdict.problems:
        seals = list(
            Seal.objects.filter(chain=chain.name, row_id__gt=after).order_by("row_id")[:BATCH]
        )
        if not seals:
            break
        upto = seals[-1].row_id
        rows = {row["id"]: row for row in rows_of.filter(pk__gt=after, pk__lte=upto)}
        previous = _check_batch(verdict, seals, rows, previous, anchors or {})
        after = upto
    if verdict.problems:
        return verdict
    sealed_nothing = head is None and after == 0
    head_at = (head.last_row_id, head.last_hash) if head else None
    if not sealed_nothing and head_at != (after, previous):
        verdict.problems.append(
            f"{chain.name}: the chain head does not match its last seal (row {after})"
        )
    for row_id in sorted(set(anchors or {}) - _sealed_ids(chain, anchors or {})):
        verdict.problems.append(f"{chain.name} row {row_id}: anchored but has no seal")
    verdict.unsealed = model.objects.filter(pk__gt=after).count()  # type: ignore[attr-defined]
    return verdict


def _check_batch(
    verdict: Verdict,
    seals: list[Seal],
    rows: dict[int, dict[str, Any]],
    previous: str,
    anchors: dict[int, str],
) -> str:
    name = verdict.chain
    by_id = {seal.row_id: seal for seal in seals}
    for row_id in sorted(set(rows) | set(by_id)):
        seal, row = by_id.get(row_id), rows.get(row_id)
        if seal is None:
            verdict.problems.append(f"{name} row {row_id}: inserted after sealing (no seal)")
            return previous
        if row is None:
            verdict.problems.append(f"{name} row {seal.row_id}: deleted (sealed, now missing)")
            return previous
        if row_hash(row) != seal.row_hash:
            verdict.problems.append(f"{name} row {seal.row_id}: changed since it was sealed")
            return previous
        previous = chain_hash(previous, seal.row_hash)
        if previous != seal.chain_hash:
            verdict.problems.append(f"{name} row {seal.row_id}: its seal was altered")
            return previous
        if seal.row_id in anchors and anchors[seal.row_id] != previous:
            verdict.problems.append(
                f"{name} row {seal.row_id}: the chain differs from the anchor kept off the server"
            )
            return previous
        verdict.checked += 1
    return previous


def _sealed_ids(chain: Chain, anchors: dict[int, str]) -> set[int]:
    return set(
        Seal.objects.filter(chain=chain.name, row_id__in=list(anchors)).values_list(
            "row_id", flat=True
        )
    )
