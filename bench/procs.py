"""The machine and its processes, read from /proc: what ran, how many cores each side used,
and how much of the machine other programs took meanwhile (a benchmark on a shared 2-core box
means nothing without that last figure)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_info(pg_version: str, pg_settings: dict[str, str]) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mhz = re.findall(r"^cpu MHz\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]

    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return "not installed"
        return (
            (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""
        )

    return {
        "nproc": os.cpu_count(),
        "cpu_model": models[0].strip() if models else "unknown",
        "cpu_mhz": mhz[0].strip() if mhz else "",
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "pg_settings": pg_settings,
        "wrk": version(["wrk", "-v"]),
        "pgbench": version(["pgbench", "--version"]),
    }


@dataclass
class Proc:
    pid: int
    ppid: int
    ticks: int
    cmdline: str


def _read_procs() -> dict[int, Proc]:
    procs: dict[int, Proc] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        procs[int(entry.name)] = Proc(
            pid=int(entry.name),
            ppid=int(rest[1]),
            ticks=int(rest[11]) + int(rest[12]),
            cmdline=cmdline.replace(b"\0", b" ").decode(errors="replace").strip(),
        )
    return procs


def _busy_ticks() -> int:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def descendants(procs: dict[int, Proc], root: int) -> set[int]:
    found = {root}
    changed = True
    while changed:
        changed = False
        for p in procs.values():
            if p.ppid in found and p.pid not in found:
                found.add(p.pid)
                changed = True
    return found


class CpuMeter:
    """Cores used per group between ``start()`` and ``stop()``.

    groups: name -> function(procs) -> set of pids. /proc is sampled every 0.2 s, so a process
    that exits before ``stop()`` (pgbench, its connections) still counts up to its last sample.
    Whatever the machine did beyond the groups is reported as ``other`` (other programs on a
    shared machine)."""

    def __init__(self, groups: dict[str, object], interval: float = 0.2) -> None:
        self.groups = groups
        self.interval = interval
        self.first: dict[int, Proc] = {}
        self.last: dict[int, Proc] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        for pid, proc in _read_procs().items():
            known = self.last.get(pid)
            if known is not None and known.cmdline != proc.cmdline and proc.ticks < known.ticks:
                continue  # a reused pid: ignore the newcomer
            self.last[pid] = proc

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        self.first = _read_procs()
        self.last = dict(self.first)
        self.busy0 = _busy_ticks()
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._sample()
        busy1 = _busy_ticks()
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        result: dict[str, float] = {}
        counted = 0
        claimed: set[int] = set()
        for name, select in self.groups.items():
            pids = select(self.last) - claimed  # type: ignore[operator]
            claimed |= pids
            ticks = 0
            for pid in pids:
                before = self.first.get(pid)
                ticks += self.last[pid].ticks - (before.ticks if before is not None else 0)
            counted += ticks
            result[name] = round(ticks / CLK_TCK / elapsed, 2)
        result["other"] = round(max(0, busy1 - self.busy0 - counted) / CLK_TCK / elapsed, 2)
        result["total_busy"] = round((busy1 - self.busy0) / CLK_TCK / elapsed, 2)
        result["seconds"] = round(elapsed, 2)
        return result


def peak_rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(m.group(1)) / 1024, 1) if m else None


def postmaster_pid(data_directory: str) -> int | None:
    try:
        return int(Path(data_directory, "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_groups(postmaster: int | None, db_name: str) -> dict[str, object]:
    """Backends of the bench database, and PostgreSQL's shared helpers (WAL writer,
    checkpointer, ...) that every database's commits use."""

    def backends(procs: dict[int, Proc]) -> set[int]:
        if postmaster is None:
            return set()
        return {
            p.pid
            for p in procs.values()
            if p.ppid == postmaster and f" {db_name} " in f" {p.cmdline} "
        }

    def helpers(procs: dict[int, Proc]) -> set[int]:
        if postmaster is None:
            return set()
        keep = ("walwriter", "checkpointer", "background writer", "autovacuum", "wal writer")
        return {
            p.pid
            for p in procs.values()
            if p.pid == postmaster or (p.ppid == postmaster and any(k in p.cmdline for k in keep))
        }

    return {"postgres_backends": backends, "postgres_helpers": helpers}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def other_load(seconds: float = 2.0, exclude: set[int] | None = None) -> float:
    """Cores busy over ``seconds``, not counting the ``exclude`` pids."""
    exclude = exclude or set()
    procs0, busy0, t0 = _read_procs(), _busy_ticks(), time.monotonic()
    time.sleep(seconds)
    procs1, busy1 = _read_procs(), _busy_ticks()
    mine = sum(procs1[p].ticks - procs0[p].ticks for p in exclude if p in procs0 and p in procs1)
    return round(max(0, busy1 - busy0 - mine) / CLK_TCK / (time.monotonic() - t0), 2)


def quiet_wait(seconds: float, cores: float) -> float:
    """Wait up to ``seconds`` until other programs use fewer than ``cores``; their load then."""
    started = time.monotonic()
    load = other_load(1.0, {os.getpid()})
    while load > cores and time.monotonic() - started < seconds:
        load = other_load(1.0, {os.getpid()})
    return load
