"""Where a check-in's time goes: py-spy samples of the server's workers, sorted into the
steps of the check-in (token lookup, context queries, signature, geofence, INSERT, ...).

Two recordings under the same load: with ``--idle`` (wall time: waiting on PostgreSQL
included) and without (CPU time only). Each sample is given the step of the deepest frame
that names one; lines inside ``checkin_context`` and ``checkin_record`` are told apart by
the statement they belong to (read from the source with ``ast``, so edits to the code keep
working as long as the variable names stay). A sample is also marked as waiting on
PostgreSQL (inside psycopg's wait), building or reading SQL in the ORM, or other Python.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench import common

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+):(?P<line>\d+)\)$")

# (function name as py-spy prints it, file suffix) -> step
FUNCTION_STEPS: list[tuple[str, str, str]] = [
    ("AppTokenAuth.authenticate", "presence/auth.py", "auth: app-token lookup"),
    ("token_user", "presence/services.py", "auth: app-token lookup"),
    ("token_row", "presence/checkin_sql.py", "auth: app-token lookup"),
    (
        "checkin_start_row",
        "presence/checkin_sql.py",
        "token + context: one prepared statement (user, phone, policy, unit, shared key, seq, "
        "recent events)",
    ),
    ("_context_build", "presence/services.py", "context: unit's sites (cached per process)"),
    ("CheckinLaneMiddleware._checkin", "presence/checkin_lane.py", "check-in lane (other)"),
    ("_bearer", "presence/checkin_lane.py", "check-in lane (other)"),
    ("checkin_answer", "presence/checkin_lane.py", "check-in lane (other)"),
    (
        "_lane_request",
        "presence/checkin_lane.py",
        "WSGI lane: environ checks, body, language (instead of Django's request cycle)",
    ),
    ("_Headers.render", "presence/checkin_lane.py", "WSGI lane: response headers"),
    ("JSONRenderer.render", "ninja/renderers.py", "JSON response encoding"),
    ("Signal.send", "django/dispatch/dispatcher.py", "request_started / request_finished"),
    ("presence_policy_on", "presence/services.py", "context: presence policy"),
    (
        "context_row",
        "presence/checkin_sql.py",
        "context: one statement (policy, unit, shared key, seq, recent events)",
    ),
    ("seqs_in_ledger", "presence/checkin_sql.py", "context: device's used seq numbers"),
    ("_unit_sites_fenced", "presence/services.py", "context: unit's sites (cached per process)"),
    ("checkin_insert", "presence/checkin_sql.py", "INSERT (autocommitted)"),
    ("employee_sites", "org/selectors.py", "context: employee's work sites"),
    ("fence_sites", "presence/services.py", "geofence (fences + check)"),
    ("check_position", "rules/geofence.py", "geofence (fences + check)"),
    ("_signature_valid", "presence/services.py", "signature verification (ECDSA P-256)"),
    ("checkin_risk_flags", "rules/risk.py", "risk flags"),
    ("risk_policy", "presence/services.py", "risk flags"),
    ("_fix_of", "presence/services.py", "risk flags"),
    ("_event_body", "presence/api.py", "response body (incl. site-name query)"),
    ("NinjaAPI.create_response", "ninja/main.py", "JSON response encoding"),
    ("Operation._result_to_response", "ninja/operation.py", "JSON response encoding"),
    ("Operation._get_values", "ninja/operation.py", "input parsing + validation (ninja, pydantic)"),
    (
        "BaseModel.model_validate",
        "pydantic/main.py",
        "input parsing + validation (ninja, pydantic)",
    ),
    ("close_old_connections", "django/db/__init__.py", "DB connection housekeeping"),
    (
        "BaseDatabaseWrapper.close_if_unusable_or_obsolete",
        "django/db/backends/base/base.py",
        "DB connection housekeeping",
    ),
    (
        "BaseDatabaseWrapper._close_if_health_check_failed",
        "django/db/backends/base/base.py",
        "DB connection housekeeping (health-check SELECT 1)",
    ),
    (
        "BaseDatabaseWrapper.health_check",
        "django/db/backends/base/base.py",
        "DB connection housekeeping (health-check SELECT 1)",
    ),
]

# Statements inside the two big service functions, by the variable they assign.
ASSIGN_STEPS = {
    ("checkin_context", "policy"): "context: presence policy",
    ("checkin_context", "sites"): "context: employee's work sites",
    ("checkin_context", "previous"): "context: recent events",
    ("checkin_context", "shared"): "context: shared-device count",
    ("checkin_context", "seqs"): "context: device's used seq numbers",
    ("checkin_record", "existing"): "idempotency lookup",
}
INSERT_STEP = "INSERT + COMMIT (transaction.atomic)"
IDLE = "idle: worker waiting for a connection"
MASTER = "server master process"


def _statement_lines(path: Path) -> dict[tuple[str, int], str]:
    """(function, line) -> step for the statements named in ASSIGN_STEPS and the atomic INSERT."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines: dict[tuple[str, int], str] = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name not in {
            "checkin_context",
            "checkin_record",
        }:
            continue
        for node in ast.walk(fn):
            step = None
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and (fn.name, t.id) in ASSIGN_STEPS:
                        step = ASSIGN_STEPS[(fn.name, t.id)]
            if isinstance(node, ast.Try) and "atomic" in ast.unparse(node.body[0])[:200]:
                step = INSERT_STEP
            if step:
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    lines.setdefault((fn.name, line), step)
    return lines


@dataclass
class Sample:
    frames: list[tuple[str, str, int]]
    count: int
    process: str


def parse_raw(path: Path) -> list[Sample]:
    samples = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        process = ""
        for part in stack.split(";"):
            if part.startswith("process "):
                process = part.split(":", 1)[0]  # the innermost process wins (the worker)
                continue
            m = FRAME.match(part)
            if m:
                frames.append((m["func"], m["file"], int(m["line"])))
            else:
                frames.append((part, "", 0))
        samples.append(Sample(frames, int(count), process))
    return samples


def _kind(frames: list[tuple[str, str, int]]) -> str:
    files = [f for _fn, f, _l in frames]
    if any(f.startswith("psycopg/") for f in files):
        leaf_fn = frames[-1][0]
        if "wait" in leaf_fn or frames[-1][1].startswith(("psycopg/waiting", "psycopg/connection")):
            return "db_wait"
        return "orm"  # psycopg's own Python/C work (adapting, parsing results)
    if any(f.startswith("django/db/") for f in files):
        return "orm"
    return "python"


def classify(samples: list[Sample], statement_lines: dict[tuple[str, int], str]) -> dict:
    steps: dict[str, Counter] = defaultdict(Counter)
    leaf_self: Counter = Counter()
    idle = master = 0
    for s in samples:
        files = [f for _fn, f, _l in s.frames]
        funcs = [fn for fn, _f, _l in s.frames]
        in_worker = any("Worker.init_process" in fn or "init_process" in fn for fn in funcs) or any(
            f.startswith("granian") for f in files
        )
        in_request = any(
            fn.endswith(("handle_request", "WSGIHandler.__call__", "CheckinLaneApp.__call__"))
            for fn in funcs
        )
        if not in_request:
            if in_worker or "granian" in s.process:
                idle += s.count
            else:
                master += s.count
            continue
        step = None
        for fn, f, line in s.frames:
            for name, suffix, label in FUNCTION_STEPS:
                if fn == name and f.endswith(suffix):
                    step = label
            if f.endswith("presence/services.py"):
                short = fn.rsplit(".", 1)[-1]
                label2 = statement_lines.get((short, line))
                if label2:
                    step = label2
        if step is None:
            if any(f.startswith("gunicorn/http") for f in files):
                step = "HTTP parsing/writing (server)"
            elif any(f.endswith("presence/checkin_lane.py") for f in files):
                step = "check-in lane (other)"
            elif any(f.endswith("presence/api.py") for f in files):
                step = "view code (other)"
            elif any(f.endswith("presence/services.py") for f in files):
                step = "service code (other)"
            else:
                step = "Django request handling + middleware"
        kind = _kind(s.frames)
        steps[step][kind] += s.count
        if kind != "db_wait":
            leaf = s.frames[-1]
            leaf_self[f"{leaf[0]} ({leaf[1]})"] += s.count
    total = sum(sum(c.values()) for c in steps.values())
    busy = sum(c["orm"] + c["python"] for c in steps.values())
    rows = []
    for step, c in sorted(steps.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(c.values())
        rows.append(
            {
                "step": step,
                "samples": n,
                "pct": round(100 * n / total, 1) if total else 0.0,
                "db_wait_pct": round(100 * c["db_wait"] / total, 1) if total else 0.0,
                "orm_pct": round(100 * c["orm"] / total, 1) if total else 0.0,
                "python_pct": round(100 * c["python"] / total, 1) if total else 0.0,
                "pct_of_busy": round(100 * (c["orm"] + c["python"]) / busy, 1) if busy else 0.0,
                "orm_pct_of_busy": round(100 * c["orm"] / busy, 1) if busy else 0.0,
                "python_pct_of_busy": round(100 * c["python"] / busy, 1) if busy else 0.0,
            }
        )
    kinds: Counter = Counter()
    for c in steps.values():
        kinds.update(c)
    return {
        "in_request_samples": total,
        "idle_samples": idle,
        "master_samples": master,
        "steps": rows,
        "kinds_pct": {k: round(100 * v / total, 1) for k, v in kinds.items()} if total else {},
        "top_leaf": [
            {"frame": k, "pct_of_busy": round(100 * v / busy, 1)}
            for k, v in leaf_self.most_common(15)
        ]
        if busy
        else [],
    }


def record(pid: int, seconds: float, out: Path, *, idle: bool, rate: int = 100) -> subprocess.Popen:
    cmd = [
        str(common.ROOT / ".venv" / "bin" / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--rate",
        str(rate),
        "--duration",
        str(int(seconds)),
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    if idle:
        cmd.append("--idle")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def summarise(raw: Path) -> dict:
    return classify(
        parse_raw(raw), _statement_lines(common.APP_ROOT / "tepat/presence/services.py")
    )


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(summarise(Path(sys.argv[1])), indent=2))
