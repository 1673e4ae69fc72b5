"""Leave requests and the cuti tahunan balance (PP 11/2017, Peraturan BKN 7/2022)."""

import copy
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.rules.leave import (
    LeaveError,
    RequestFacts,
    annual_leave_balance,
    days_counted,
    leave_policy_data,
    leave_policy_from_data,
    leave_policy_load,
    leave_request_problems,
    service_years_on,
)

POLICY = leave_policy_load()
APPOINTED = date(2015, 3, 1)


def weekday(d: date) -> bool:
    return d.weekday() < 5


def facts(**overrides) -> RequestFacts:
    values = {
        "type": "cuti_tahunan",
        "kind": "PNS",
        "first_day": date(2026, 11, 2),
        "last_day": date(2026, 11, 4),
        "days": 3,
        "appointed": APPOINTED,
        "has_evidence": False,
        "annual_remaining": 12,
    }
    values.update(overrides)
    return RequestFacts(**values)


class TestAnnualBalance:
    def balance(self, year=2026, taken=None, **kw):
        return annual_leave_balance(
            year=year,
            kind=kw.pop("kind", "PNS"),
            appointed=kw.pop("appointed", APPOINTED),
            taken_by_year=taken or {},
            policy=POLICY,
            **kw,
        )

    def test_it_carries_at_most_six_unused_days_from_last_year(self):
        b = self.balance(taken={2025: 2, 2024: 5})
        assert (b.entitlement, b.carried, b.available) == (12, 6, 18)
        assert "Sisa cuti 2025: 10 hari, dibawa 6 hari (paling banyak 6)" in b.lines

    def test_it_carries_what_is_left_when_less_than_six(self):
        b = self.balance(taken={2025: 9, 2024: 1, 2026: 4})
        assert (b.carried, b.available, b.taken, b.remaining) == (3, 15, 4, 11)

    def test_two_whole_years_unused_give_24_days(self):
        b = self.balance(taken={})
        assert b.available == 24
        assert any("2024 dan 2025" in line for line in b.lines)

    def test_first_year_of_service_has_no_right(self):
        b = self.balance(appointed=date(2026, 2, 1))
        assert b.available == 0
        assert b.remaining == 0
        assert "belum berhak" in b.lines[0]

    def test_the_right_starts_in_the_year_one_year_of_service_is_reached(self):
        # Appointed March 2025: one year reached in March 2026, nothing from 2025 to carry.
        b = self.balance(appointed=date(2025, 3, 1))
        assert (b.available, b.carried) == (12, 0)

    def test_cuti_besar_in_the_year_takes_the_right_away(self):
        b = self.balance(taken={2025: 12}, cuti_besar_years=frozenset({2026}))
        assert b.available == 0

    def test_pppk_follows_its_own_rule(self):
        b = self.balance(kind="PPPK", taken={2025: 12})
        assert b.available == 12
        assert "Peraturan BKN 7/2022" in b.lines[0]

    @given(
        taken=st.dictionaries(st.integers(2015, 2030), st.integers(0, 30), max_size=8),
        year=st.integers(2010, 2030),
        appointed=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    )
    def test_the_balance_never_goes_negative_or_above_24(self, taken, year, appointed):
        b = self.balance(year=year, taken=taken, appointed=appointed)
        assert 0 <= b.remaining <= b.available <= 24


class TestRequestProblems:
    def test_a_valid_cuti_tahunan_has_no_problem(self):
        assert leave_request_problems(facts(), POLICY) == ()

    def test_more_than_the_balance_is_refused_with_both_numbers(self):
        problems = leave_request_problems(facts(days=5, annual_remaining=4), POLICY)
        assert problems == ("Sisa cuti tahunan 4 hari, diajukan 5 hari",)

    def test_cuti_besar_is_not_for_pppk(self):
        problems = leave_request_problems(
            facts(type="cuti_besar", kind="PPPK", has_evidence=True), POLICY
        )
        assert any("tidak berlaku untuk PPPK" in p for p in problems)

    def test_cuti_besar_needs_five_years_of_service(self):
        problems = leave_request_problems(
            facts(type="cuti_besar", appointed=date(2023, 1, 1), has_evidence=True), POLICY
        )
        assert any("masa kerja 5 tahun" in p for p in problems)

    def test_sakit_for_two_days_needs_a_doctors_letter_but_one_day_does_not(self):
        one = facts(type="cuti_sakit", days=1, last_day=date(2026, 11, 2))
        assert leave_request_problems(one, POLICY) == ()
        two = facts(type="cuti_sakit", days=2, last_day=date(2026, 11, 3))
        assert leave_request_problems(two, POLICY) == (
            "Cuti sakit 2 hari memerlukan bukti (surat/dokumen)",
        )

    def test_pppk_cuti_sakit_is_limited_to_a_month(self):
        long = facts(type="cuti_sakit", kind="PPPK", days=31, has_evidence=True)
        assert any("paling lama 30 hari" in p for p in leave_request_problems(long, POLICY))
        pns = facts(type="cuti_sakit", kind="PNS", days=31, has_evidence=True)
        assert leave_request_problems(pns, POLICY) == ()

    def test_only_izin_dinas_luar_and_tugas_kedinasan_go_by_the_hour(self):
        assert leave_request_problems(facts(type="izin", partial_day=True, days=1), POLICY) == ()
        problems = leave_request_problems(facts(type="cuti_tahunan", partial_day=True), POLICY)
        assert "Cuti tahunan tidak dapat diajukan per jam" in problems

    def test_a_range_without_working_days_is_refused(self):
        problems = leave_request_problems(facts(days=0), POLICY)
        assert "Tidak ada hari kerja pada tanggal yang dipilih" in problems

    def test_forgotten_punches_are_limited_per_month(self):
        f = facts(type="lupa_absen", days=1, same_month_count=3)
        assert any("paling banyak 3 kali sebulan" in p for p in leave_request_problems(f, POLICY))

    def test_overlapping_requests_are_named(self):
        f = facts(overlapping=("Dinas luar 03-11-2026",))
        assert leave_request_problems(f, POLICY) == (
            "Sudah ada pengajuan pada tanggal yang sama: Dinas luar 03-11-2026",
        )

    def test_two_levels_from_fifteen_days_of_cuti_sakit(self):
        rule = POLICY.rule("cuti_sakit")
        assert (rule.levels_for(14), rule.levels_for(15)) == (1, 2)
        assert POLICY.rule("cuti_besar").levels_for(1) == 2


def test_days_are_counted_in_working_days_or_calendar_days():
    # Friday 6 to Monday 9 November 2026.
    first, last = date(2026, 11, 6), date(2026, 11, 9)
    assert days_counted(first, last, "working_days", weekday) == 2
    assert days_counted(first, last, "calendar_days", weekday) == 4


def test_service_years_count_whole_years():
    assert service_years_on(date(2021, 11, 24), date(2026, 11, 23)) == 4
    assert service_years_on(date(2021, 11, 23), date(2026, 11, 23)) == 5


def test_requests_expire_after_the_policy_days():
    assert POLICY.expires_on(date(2026, 11, 20)) == date(2026, 11, 23)


class TestPolicyData:
    def test_a_shipped_policy_cites_its_regulation_for_every_type(self):
        assert all(rule.article for rule in POLICY.types.values())
        assert POLICY.valid_from == date(2022, 6, 1)

    @pytest.mark.parametrize(
        ("path", "value", "message"),
        [
            (("types", "cuti_tahunan", "approval_levels"), 3, "harus 1 atau 2"),
            (("types", "cuti_tahunan", "employees"), ["ASN"], "employees"),
            (("types", "cuti_tahunan", "partial_day"), True, "tidak dapat per jam"),
            (("types", "cuti_tahunan", "counted_in"), "weeks", "counted_in"),
            (("annual_leave", "PNS", "entitlement_days"), -1, "bilangan bulat"),
            (("pending_expiry_days",), 0, "paling sedikit 1 hari"),
            (("valid_from",), "kemarin", "valid_from"),
        ],
    )
    def test_bad_policy_data_is_refused_with_its_place(self, path, value, message):
        data = copy.deepcopy(leave_policy_data())
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(LeaveError, match=message):
            leave_policy_from_data(data)

    def test_an_unknown_type_is_refused(self):
        data = copy.deepcopy(leave_policy_data())
        data["types"]["cuti_liburan"] = data["types"]["izin"]
        with pytest.raises(LeaveError, match=r"types\.cuti_liburan: jenis tidak dikenal"):
            leave_policy_from_data(data)
