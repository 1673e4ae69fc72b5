#!/usr/bin/env bash
# The phone check-in benchmark, end to end; writes docs/performance.md.
#   bench/run_checkin.sh                 # defaults: 30,000 employees, 3 runs of 10 s, 64 clients
#   bench/run_checkin.sh --fresh         # rebuild the bench database first
#   bench/run_checkin.sh --server granian --workers 4
# Needs: PostgreSQL on 127.0.0.1:5432 (user postgres, trust), wrk and pgbench on PATH, and in
# .venv: the test extras plus gunicorn (or granian) and py-spy.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v pgbench >/dev/null || missing+=(postgresql-client)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in gunicorn py-spy; do
    [[ -x .venv/bin/$tool ]] || { echo "missing .venv/bin/$tool: pip install -e '.[test]'" >&2; exit 1; }
done
exec .venv/bin/python -m bench.checkin "$@"
