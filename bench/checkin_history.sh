#!/bin/sh
# A copy of the check-in bench database with months of ledger history, for EXPLAIN and for
# bench/checkin_index_cost.sh (docs/performance.md, step 7): six month partitions before the
# current one, 3,000 employees (the first phones) with a check-in and a check-out every weekday
# from June 1st, 2026 to December 5th, 2026 (about 810,000 rows through the key trigger).
#   bench/checkin_history.sh [TARGET_DB] [SOURCE_DB]
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tepat_checkin_explain python -m bench.ledger_explain
set -eu
DB=${1:-tepat_checkin_explain}
SRC=${2:-tepat_bench_checkin}
psql -h 127.0.0.1 -U postgres -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB TEMPLATE $SRC"
psql -h 127.0.0.1 -U postgres -d "$DB" -qAt -v ON_ERROR_STOP=1 <<'SQL'
DO $$
DECLARE m int;
BEGIN
  FOR m IN 6..11 LOOP
    EXECUTE format('CREATE TABLE presence_checkinevent_y2026m%s PARTITION OF presence_checkinevent'
                   ' FOR VALUES FROM (%L) TO (%L)', lpad(m::text, 2, '0'),
                   make_timestamptz(2026, m, 1, 0, 0, 0, 'Asia/Jakarta'),
                   make_timestamptz(2026, m + 1, 1, 0, 0, 0, 'Asia/Jakarta'));
  END LOOP;
END $$;
INSERT INTO presence_checkinevent (idempotency_key, employee_id, kind, taken_at, device_taken_at,
    received_at, source, status, site_id, distance_m, latitude, longitude, accuracy_m, device_id,
    seq, risk_flags, message, reason, payload, selfie)
SELECT gen_random_uuid()::text, d.employee_id, k.kind, t.ts, t.ts, t.ts, 'phone', 'accepted', NULL,
       10, -2.3 + random() / 100, 101.5 + random() / 100, 12, d.id,
       (extract(epoch FROM t.ts) / 60)::bigint, '[]', '', '', '{}', ''
FROM (SELECT id, employee_id FROM presence_phonedevice WHERE status = 'active'
      ORDER BY id LIMIT 3000) d
CROSS JOIN generate_series('2026-06-01 07:30+07'::timestamptz, '2026-12-05 07:30+07', '1 day') AS day(ts0)
CROSS JOIN (VALUES ('in', interval '0'), ('out', interval '9 hours')) AS k(kind, off)
CROSS JOIN LATERAL (SELECT day.ts0 + k.off + (d.id % 30) * interval '1 minute' AS ts) t
WHERE extract(isodow FROM day.ts0) < 6;
ANALYZE;
SQL
