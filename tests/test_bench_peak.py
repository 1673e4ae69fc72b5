"""The morning-peak benchmark's shape and its verdict as docs/performance.md shows it."""

import json
from collections import Counter

from bench import common, peak, sections


def test_the_morning_is_seeded_inside_its_window_and_densest_around_seven_twenty():
    when = peak.schedule(20_000, seed=7)

    assert when == peak.schedule(20_000, seed=7)
    assert when != peak.schedule(20_000, seed=8)
    assert all(0 <= t <= peak.WINDOW_S for t in when)
    busiest_ten_minutes = Counter(int(t // 600) for t in when).most_common(1)[0][0]
    assert busiest_ten_minutes * 600 <= peak.PEAK_S <= (busiest_ten_minutes + 1) * 600


def _results(**ledger):
    counts = {"missing": 0, "twice": 0, "unannounced": 0, **ledger}
    return {
        "command": "python -m bench.peak --employees 100000",
        "wall_s": 400.0,
        "machine": {"nproc": 2, "cpu_model": "x", "ram_gib": 23.5, "postgresql": "15"},
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [2.0, 1.5, 1.0],
        "setup": {"employees": 100_000, "seed": 2026, "reused": True, "reset_s": 10.6,
                  "total_s": 211.5, "timings": {"org_s": 52.9, "tokens_s": 122.8}},
        "signing_s": 70.0,
        "lock_wait_s": 3.0,
        "lock_held_s": 300.0,
        "schedule": {"compress": 60.0, "span_s": 90.0},
        "wrk": {"loaded": 95_202, "opens": 256, "answered": 95_202, "span_s": 250.0,
                "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 2, "status": 0},
                "late_max_s": 160.0, "late_sum_s": 7_000_000.0,
                "latency_us": {"max": 9e5, "percentiles": {"50": 4e5, "90": 6e5, "99": 8e5}}},
        "rate_mean_per_s": 380.0,
        "backlog": {"phones": 5061, "items": 30366, "p50_s": 1.0, "max_s": 3.0},
        "fleet": {"punches": 3000, "seconds": 60.0, "punch_p99_ms": 900.0, "exactly_once": True},
        "ledger": {"answered_201_single": 94_946, "answered_201_batch_items": 30_366,
                   "ledger_phone_rows": 125_312, "single_statuses": {"201": 94_946},
                   "cut_off_retried": {}, "batch_statuses": {"200": 5061}, **counts},
        "worker_peak_rss_mib": {"checkin": [166.0, 167.0], "checkin_master": 30.0,
                                "machines": [24.0, 150.0], "tasks": {"phones": 150.0}},
        "tasks_run": {"phones": {}},
        "ok": not any(counts.values()),
    }  # fmt: skip


def test_the_section_counts_the_ledger_and_says_whether_anything_was_lost():
    text = peak.render(_results())

    assert "94946 + 30366 = 125312" in text
    assert "| missing / twice / stored unannounced | 0 / 0 / 0 |" in text
    assert "| nothing lost, nothing twice | **yes** |" in text
    assert "reused (seed 2026" in text
    assert "held 300.0 s" in text
    assert "[166.0, 167.0] (master 30.0)" in text
    assert "| wrk socket errors (connect / read / write / timeout) | 0 / 0 / 0 / 2 |" in text


def test_one_check_in_missing_from_the_ledger_turns_the_verdict_to_no():
    text = peak.render(_results(missing=1))

    assert "| missing / twice / stored unannounced | 1 / 0 / 0 |" in text
    assert "**NO**" in text


def test_a_trial_prints_its_section_and_leaves_the_file_alone(tmp_path, capsys):
    path = tmp_path / "performance.md"
    path.write_text("# Check-in\n", encoding="utf-8")

    sections.publish("peak", "## Morning peak\nfigures", write=False, path=path)
    assert path.read_text(encoding="utf-8") == "# Check-in\n"
    assert "figures" in capsys.readouterr().out

    sections.publish("peak", "## Morning peak\nfigures", path=path)
    assert "figures" in path.read_text(encoding="utf-8")


def test_a_setup_of_another_seed_or_size_is_not_reused(tmp_path):
    setup = tmp_path / "setup.json"
    assert common.setup_reusable(setup, {"seed": 1}, "postgres://-", "SELECT 1", "n") is None

    setup.write_text(json.dumps({"seed": 1, "employees": 5000, "n": 1}), encoding="utf-8")
    match = {"seed": 1, "employees": 100_000}
    assert common.setup_reusable(setup, match, "postgres://-", "SELECT 1", "n") is None
