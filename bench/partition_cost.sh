#!/bin/sh
# What partitioning costs a check-in INSERT: a plain copy of the ledger (unique key, the same
# indexes, foreign keys and append-only trigger) against the partitioned ledger (key table and
# trigger), alternating, pgbench single-row autocommitted inserts (docs/adr/0002, "Measured cost").
#   flock /tmp/tepat-bench.lock bench/partition_cost.sh DBNAME     (a migrated database with employees)
set -eu
DB=${1:?database name}
PSQL="psql -h 127.0.0.1 -U postgres -d $DB -qAt -v ON_ERROR_STOP=1"
WORK=$(mktemp -d)
$PSQL <<'SQL'
DROP TABLE IF EXISTS bench_plain_ledger;
CREATE TABLE bench_plain_ledger (LIKE presence_checkinevent INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS);
ALTER TABLE bench_plain_ledger ADD PRIMARY KEY (id), ADD UNIQUE (idempotency_key),
  ADD FOREIGN KEY (employee_id) REFERENCES org_employee(id) DEFERRABLE INITIALLY DEFERRED,
  ADD FOREIGN KEY (site_id) REFERENCES org_worksite(id) DEFERRABLE INITIALLY DEFERRED,
  ADD FOREIGN KEY (device_id) REFERENCES presence_phonedevice(id) DEFERRABLE INITIALLY DEFERRED,
  ADD FOREIGN KEY (author_id) REFERENCES accounts_user(id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX ON bench_plain_ledger (idempotency_key varchar_pattern_ops);
CREATE INDEX ON bench_plain_ledger (employee_id, taken_at);
CREATE INDEX ON bench_plain_ledger (received_at) WHERE status = 'review';
CREATE INDEX ON bench_plain_ledger (author_id);
CREATE INDEX ON bench_plain_ledger (corrects_id);
CREATE INDEX ON bench_plain_ledger (device_id);
CREATE INDEX ON bench_plain_ledger (employee_id);
CREATE INDEX ON bench_plain_ledger (site_id);
CREATE TRIGGER bench_plain_append_only BEFORE UPDATE OR DELETE ON bench_plain_ledger
  FOR EACH ROW EXECUTE FUNCTION presence_ledger_append_only();
INSERT INTO bench_plain_ledger SELECT * FROM presence_checkinevent;
ANALYZE bench_plain_ledger;
SQL
EMP=$($PSQL -c "SELECT min(id) FROM org_employee")
N=$($PSQL -c "SELECT least(count(*), 1000) - 1 FROM org_employee")
for t in bench_plain_ledger presence_checkinevent; do
  cat > "$WORK/$t.sql" <<SQL
\set e random(0, $N)
INSERT INTO $t (idempotency_key, employee_id, kind, taken_at, received_at, source, status, risk_flags, message, reason, payload, selfie) VALUES (gen_random_uuid()::text, $EMP + :e, 'in', now(), now(), 'phone', 'accepted', '[]', '', '', '{"a": 1}', '') ON CONFLICT DO NOTHING RETURNING id;
SQL
done
for i in 1 2 3; do
  for t in bench_plain_ledger presence_checkinevent; do
    tps=$(pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 8 -j 2 -T 8 -f "$WORK/$t.sql" "$DB" 2>/dev/null | grep -o "tps = [0-9.]*" | head -1)
    echo "$i $t $tps load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
$PSQL -c "DROP TABLE bench_plain_ledger"
rm -r "$WORK"
