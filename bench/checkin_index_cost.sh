#!/bin/sh
# What the ledger's indexes cost a check-in INSERT: the same phone-check-in-shaped row inserted
# into two copies of one database, one migrated to presence 0012 (employee_id, device_id and
# LIKE indexes) and one to 0013 (docs/performance.md, step 7), alternating; pgbench, one
# autocommitted INSERT per transaction through the key table's trigger, as the API sends it.
#   flock /tmp/tepat-bench.lock bench/checkin_index_cost.sh DB_AT_0012 DB_AT_0013 [RUNS]
set -eu
A=${1:?database at presence 0012}
B=${2:?database at presence 0013}
RUNS=${3:-3}
WORK=$(mktemp -d)
for db in "$A" "$B"; do
  psql -h 127.0.0.1 -U postgres -d "$db" -qAt -v ON_ERROR_STOP=1 >"$WORK/$db.ids" <<'SQL'
SELECT min(d.id), max(d.id), min(d.employee_id) FROM presence_phonedevice d;
SQL
  IFS='|' read -r DMIN DMAX EMIN <"$WORK/$db.ids"
  cat >"$WORK/$db.sql" <<SQL
\set d random($DMIN, $DMIN + 999)
\set s random(1, 1000000000)
INSERT INTO presence_checkinevent (idempotency_key, employee_id, kind, taken_at, device_taken_at, received_at, source, status, site_id, distance_m, latitude, longitude, accuracy_m, device_id, seq, risk_flags, message, reason, payload, selfie) SELECT gen_random_uuid()::text, employee_id, 'in', now(), now(), now(), 'phone', 'accepted', NULL, 12.5, -2.3033, 101.5467, 13, id, :s, '[]', 'Anda berada di lokasi', '', '{"id": "x", "seq": 1}', '' FROM presence_phonedevice WHERE id = :d ON CONFLICT DO NOTHING RETURNING id;
SQL
done
for i in $(seq "$RUNS"); do
  for db in "$A" "$B"; do
    tps=$(pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 8 -j 2 -T 8 -f "$WORK/$db.sql" "$db" 2>/dev/null | grep -o "tps = [0-9.]*" | head -1)
    echo "$i $db $tps load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
rm -r "$WORK"
