"""The sanctions an SK may impose under PP 94/2021, as policy data: the tunjangan kinerja cuts
carry the TPP policies' codes, and a sanction covers whole months from the month it takes
effect."""

from dataclasses import replace
from datetime import date

import pytest

from tepat.rules.discipline import (
    DisciplineError,
    discipline_policy_from_yaml,
    discipline_policy_load,
    discipline_policy_validate,
    sanction_months_touched,
)
from tepat.rules.tpp_policy import policy_load

PP94 = discipline_policy_load()


@pytest.mark.parametrize("tpp_policy", ["kaur_style", "ttu_style"])
def test_every_tpp_sanction_code_is_a_sanction_an_sk_can_impose(tpp_policy: str) -> None:
    tpp = policy_load(tpp_policy)
    for rule in tpp.sanctions.types:
        kind = PP94.sanction_kind(rule.code)
        assert kind is not None, rule.code
        assert kind.months == rule.months, rule.code


def test_a_pppk_cannot_be_given_a_pns_only_sanction() -> None:
    pns = {k.code for k in PP94.sanction_kinds_for("PNS")}
    pppk = {k.code for k in PP94.sanction_kinds_for("PPPK")}
    assert "PEMOTONGAN_25_6_BULAN" in pns - pppk
    assert "PEMUTUSAN_PERJANJIAN_KERJA" in pppk - pns
    assert "TEGURAN_LISAN" in pns & pppk


def test_a_six_month_cut_from_mid_september_covers_september_to_february() -> None:
    assert sanction_months_touched(date(2026, 9, 15), 6) == (date(2026, 9, 1), date(2027, 2, 1))


def test_a_sanction_without_duration_covers_its_own_month() -> None:
    assert sanction_months_touched(date(2026, 12, 31), None) == (
        date(2026, 12, 1),
        date(2026, 12, 1),
    )


def test_a_sanction_kind_listed_twice_is_refused() -> None:
    doubled = replace(PP94, sanction_kinds=(*PP94.sanction_kinds, PP94.sanction_kinds[0]))
    assert "Kode hukuman TEGURAN_LISAN dipakai lebih dari sekali" in (
        discipline_policy_validate(doubled)
    )


def test_a_sanction_kind_for_nobody_is_refused() -> None:
    text = """
name: x
version: "1"
regulation: x
valid_from: 2021-08-31
valid_to: null
thresholds:
  - {code: A, basis: cumulative, min_days: 3, level: ringan, sanction_pns: a,
     sanction_pppk: a, article: a, article_pppk: a}
sanction_kinds:
  - {code: X, label: x, level: ringan, months: null, applies_to: [HONORER], article: a}
"""
    with pytest.raises(DisciplineError, match="applies_to"):
        discipline_policy_from_yaml(text)
