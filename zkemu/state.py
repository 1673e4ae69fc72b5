"""A device's clock and its log tables with upload state."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zkemu.protocol import AttRecord

WIB = timedelta(hours=7)


class DeviceClock:
    """Device-local wall clock: a naive datetime with no zone, as the terminal keeps it. It runs
    at `1 + drift_ppm / 1e6` times the speed of `monotonic` and can be set or shifted."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        drift_ppm: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self.drift_ppm = drift_ppm
        self._anchor_local = start or datetime.now(UTC).replace(tzinfo=None) + WIB
        self._anchor_mono = monotonic()

    def now(self) -> datetime:
        elapsed = self._monotonic() - self._anchor_mono
        return self._anchor_local + timedelta(seconds=elapsed * (1 + self.drift_ppm / 1e6))

    def set(self, local: datetime) -> None:
        self._anchor_local = local.replace(tzinfo=None)
        self._anchor_mono = self._monotonic()

    def shift(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


@dataclass(frozen=True)
class Entry:
    """One row of a device log. ATTLOG rows keep the record (rendered as 7 or 10 fields at
    upload time); other rows (OPLOG, USER, FP, a corrupt "RAW" line) keep their wire text."""

    seq: int
    kind: str
    line: str = ""
    record: AttRecord | None = None

    def render(self, attlog_fields: int) -> str:
        return self.record.to_line(attlog_fields) if self.record is not None else self.line


class Journal:
    """A device table and its upload cursor. Rows are never removed by an upload: the device
    keeps the set of rows the server has not acknowledged and derives its stamp from it (the
    highest sequence number below which everything is acknowledged)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.entries: list[Entry] = []
        self._by_seq: dict[int, Entry] = {}
        self._unacked: dict[int, None] = {}  # insertion order == sequence order
        self._next_seq = 1

    def __len__(self) -> int:
        return len(self.entries)

    def append(self, kind: str, *, line: str = "", record: AttRecord | None = None) -> Entry:
        entry = Entry(self._next_seq, kind, line, record)
        self._next_seq += 1
        self.entries.append(entry)
        self._by_seq[entry.seq] = entry
        self._unacked[entry.seq] = None
        return entry

    def pending(self, kinds: Iterable[str] | None = None, limit: int | None = None) -> list[Entry]:
        """Unacknowledged rows of these kinds in sequence order, at most `limit` of them."""
        wanted = None if kinds is None else frozenset(kinds)
        rows = (self._by_seq[seq] for seq in self._unacked)
        matching = (row for row in rows if wanted is None or row.kind in wanted)
        return list(itertools.islice(matching, limit))

    def is_acked(self, seq: int) -> bool:
        return seq in self._by_seq and seq not in self._unacked

    def ack(self, seqs: Iterable[int]) -> int:
        before = len(self._unacked)
        for seq in seqs:
            self._unacked.pop(seq, None)
        return before - len(self._unacked)

    @property
    def stamp(self) -> int:
        for seq in self._unacked:
            return seq - 1
        return self._next_seq - 1

    def reset(self) -> None:
        """Stamp 0: everything is to be uploaded again."""
        self._unacked = {entry.seq: None for entry in self.entries}

    def resume_after(self, seq: int) -> None:
        """An old firmware honouring a server-kept numeric stamp."""
        self._unacked = {entry.seq: None for entry in self.entries if entry.seq > seq}

    def clear(self) -> None:
        self.entries.clear()
        self._by_seq.clear()
        self._unacked.clear()
