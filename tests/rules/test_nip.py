from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tepat.rules.nip import (
    EmployeeKind,
    Gender,
    NipError,
    ParsedNip,
    is_valid_nip,
    make_nip,
    parse_nip,
)

TODAY = date(2025, 6, 15)
FULL_WIDTH_NIP = "".join(chr(ord(digit) + 0xFEE0) for digit in "198609262015051001")


def test_it_parses_a_pns_nip() -> None:
    parsed = parse_nip("198609262015051001", today=TODAY)

    assert parsed == ParsedNip(
        nip="198609262015051001",
        kind="PNS",
        birth_date=date(1986, 9, 26),
        appointed=date(2015, 5, 1),
        gender="L",
        serial=1,
    )


def test_it_accepts_the_nip_as_printed_with_spaces() -> None:
    parsed = parse_nip(" 19860926 201505 1 001 ", today=TODAY)

    assert parsed.nip == "198609262015051001"
    assert parsed.spaced == "19860926 201505 1 001"


def test_it_parses_a_pppk_nip_with_its_21_marker() -> None:
    parsed = parse_nip("199211092023212038", today=TODAY)

    assert parsed == ParsedNip(
        nip="199211092023212038",
        kind="PPPK",
        birth_date=date(1992, 11, 9),
        appointed=date(2023, 1, 1),
        gender="P",
        serial=38,
    )


@pytest.mark.parametrize(
    ("raw", "reason", "message"),
    [
        ("19860926201505100", "format", "NIP harus 18 digit angka"),
        ("1986092620150510011", "format", "NIP harus 18 digit angka"),
        ("19860926201505100A", "format", "NIP harus 18 digit angka"),
        ("", "format", "NIP harus 18 digit angka"),
        # Full-width digits pass str.isdigit(); they must not pass here.
        (FULL_WIDTH_NIP, "format", "NIP harus 18 digit angka"),
        (
            "199002302015051001",
            "birth_date",
            "Tanggal lahir pada NIP tidak valid (30-02-1990)",
        ),
        (
            "199013012015051001",
            "birth_date",
            "Tanggal lahir pada NIP tidak valid (01-13-1990)",
        ),
        (
            "193912312015051001",
            "birth_year",
            "Tahun lahir pada NIP tidak mungkin (1939; paling awal 1940)",
        ),
        (
            "202507012015051001",
            "birth_future",
            "Tanggal lahir pada NIP belum terjadi (01-07-2025)",
        ),
        ("198609262015001001", "appointment_month", "Bulan TMT CPNS pada NIP tidak valid (00)"),
        ("198609262015131001", "appointment_month", "Bulan TMT CPNS pada NIP tidak valid (13)"),
        (
            "194001011959121001",
            "appointment_year",
            "Tahun TMT CPNS pada NIP tidak mungkin (1959; paling awal 1960)",
        ),
        ("198609262025071001", "appointment_future", "TMT CPNS pada NIP belum terjadi (07-2025)"),
        (
            "199211092018212038",
            "appointment_year",
            "Tahun pengangkatan PPPK pada NIP tidak mungkin (2018; PPPK pertama diangkat "
            "tahun 2019)",
        ),
        (
            "199211092026212038",
            "appointment_future",
            "Tahun pengangkatan PPPK pada NIP belum terjadi (2026)",
        ),
        (
            "199706152015051001",
            "age_too_young",
            "Usia saat pengangkatan pada NIP kurang dari 18 tahun (lahir 06-1997, TMT 05-2015)",
        ),
        (
            "196001102020021001",
            "age_too_old",
            "Usia saat pengangkatan pada NIP lebih dari 60 tahun (lahir 01-1960, TMT 02-2020)",
        ),
        (
            "200201012019212001",
            "age_too_young",
            "Usia saat pengangkatan pada NIP kurang dari 18 tahun (lahir 01-2002, diangkat 2019)",
        ),
        (
            "195812012019212001",
            "age_too_old",
            "Usia saat pengangkatan pada NIP lebih dari 60 tahun (lahir 12-1958, diangkat 2019)",
        ),
        (
            "198609262015053001",
            "gender",
            "Kode jenis kelamin pada NIP (digit ke-15) harus 1 (laki-laki) atau 2 (perempuan), "
            "tertulis 3",
        ),
        (
            "198609262015050001",
            "gender",
            "Kode jenis kelamin pada NIP (digit ke-15) harus 1 (laki-laki) atau 2 (perempuan), "
            "tertulis 0",
        ),
        ("198609262015051000", "serial", "Nomor urut pada NIP tidak boleh 000"),
    ],
)
def test_it_rejects_an_impossible_nip_with_an_indonesian_reason(
    raw: str, reason: str, message: str
) -> None:
    with pytest.raises(NipError) as caught:
        parse_nip(raw, today=TODAY)

    assert caught.value.reason == reason
    assert caught.value.message == message
    assert str(caught.value) == message
    assert not is_valid_nip(raw, today=TODAY)


@pytest.mark.parametrize(
    "raw",
    [
        "199706152015061001",  # PNS appointed at exactly 18 years 0 months
        "196001102020011001",  # PNS appointed at exactly 60 years 0 months
        "200112012019212001",  # PPPK who turns 18 in December of the appointment year
        "195901012019212001",  # PPPK aged exactly 60 in January of the appointment year
        "198609262025061001",  # TMT this very month
        "199211092025212038",  # PPPK appointed this year
    ],
)
def test_it_accepts_the_edge_of_each_age_and_date_limit(raw: str) -> None:
    assert is_valid_nip(raw, today=TODAY)


def test_it_rejects_a_nip_of_the_other_kind_when_the_kind_is_known() -> None:
    with pytest.raises(NipError) as pppk_as_pns:
        parse_nip("199211092023212038", today=TODAY, kind="PNS")
    with pytest.raises(NipError) as pns_as_pppk:
        parse_nip("198609262015051001", today=TODAY, kind="PPPK")

    assert pppk_as_pns.value.message == "NIP ini berformat PPPK, bukan PNS"
    assert pns_as_pppk.value.message == "NIP ini berformat PNS, bukan PPPK"
    assert pns_as_pppk.value.reason == pppk_as_pns.value.reason == "kind_mismatch"
    assert parse_nip("199211092023212038", today=TODAY, kind="PPPK").kind == "PPPK"
    assert parse_nip("198609262015051001", today=TODAY, kind="PNS").kind == "PNS"


def test_it_asks_for_the_21_marker_when_a_pppk_nip_has_neither_marker_nor_month() -> None:
    with pytest.raises(NipError) as caught:
        parse_nip("199211092023312038", today=TODAY, kind="PPPK")

    assert caught.value.message == "NIP PPPK harus memuat kode 21 pada digit ke-13 dan ke-14"


def test_make_nip_builds_the_documented_examples() -> None:
    assert make_nip("PNS", date(1986, 9, 26), date(2015, 5, 1), "L", 1) == "198609262015051001"
    assert make_nip("PPPK", date(1992, 11, 9), date(2023, 1, 1), "P", 38) == "199211092023212038"


@pytest.mark.parametrize(
    ("kind", "appointed", "gender", "serial"),
    [
        ("PNS", date(2015, 5, 2), "L", 1),  # a NIP cannot hold the day of the TMT
        ("PPPK", date(2023, 3, 1), "L", 1),  # nor the month of a PPPK appointment
        ("PNS", date(2015, 5, 1), "X", 1),
        ("PNS", date(2015, 5, 1), "L", 1000),
        ("PNS", date(2015, 5, 1), "L", -1),
        ("ASN", date(2015, 5, 1), "L", 1),
    ],
)
def test_make_nip_refuses_arguments_a_nip_cannot_hold(
    kind: str, appointed: date, gender: str, serial: int
) -> None:
    with pytest.raises(ValueError, match="must be") as caught:
        make_nip(kind, date(1986, 9, 26), appointed, gender, serial)  # type: ignore[arg-type]

    assert not isinstance(caught.value, NipError)


def test_make_nip_refuses_a_combination_that_breaks_a_nip_rule() -> None:
    with pytest.raises(NipError) as caught:
        make_nip("PNS", date(2000, 1, 1), date(2017, 1, 1), "L", 1)

    assert caught.value.reason == "age_too_young"


def _months(d: date) -> int:
    return d.year * 12 + d.month - 1


@st.composite
def nip_fields(draw: st.DrawFn) -> ParsedNip:
    """Fields of a plausible NIP, kept a month clear of every limit."""
    kinds: list[EmployeeKind] = ["PNS", "PPPK"]
    genders: list[Gender] = ["L", "P"]
    kind = draw(st.sampled_from(kinds))
    birth = draw(st.dates(date(1940, 1, 1), date(2006, 12, 31)))
    if kind == "PNS":
        earliest = max(_months(birth) + 18 * 12 + 1, 1960 * 12)
        latest = min(_months(birth) + 60 * 12 - 1, _months(TODAY))
        assume(earliest <= latest)
        month_index = draw(st.integers(earliest, latest))
        appointed = date(month_index // 12, month_index % 12 + 1, 1)
    else:
        earliest_year = max(birth.year + 19, 2019)
        latest_year = min(birth.year + 59, TODAY.year)
        assume(earliest_year <= latest_year)
        appointed = date(draw(st.integers(earliest_year, latest_year)), 1, 1)
    return ParsedNip(
        nip="",
        kind=kind,
        birth_date=birth,
        appointed=appointed,
        gender=draw(st.sampled_from(genders)),
        serial=draw(st.integers(1, 999)),
    )


@given(nip_fields())
def test_make_nip_round_trips_through_parse_nip(fields: ParsedNip) -> None:
    nip = make_nip(fields.kind, fields.birth_date, fields.appointed, fields.gender, fields.serial)

    parsed = parse_nip(nip, today=TODAY)

    assert parsed == ParsedNip(
        nip=nip,
        kind=fields.kind,
        birth_date=fields.birth_date,
        appointed=fields.appointed,
        gender=fields.gender,
        serial=fields.serial,
    )
    assert parse_nip(parsed.spaced, today=TODAY) == parsed


@given(st.text() | st.text(alphabet="0123456789 ", min_size=16, max_size=24))
def test_arbitrary_text_raises_nothing_but_nip_error(raw: str) -> None:
    outcome: ParsedNip | NipError
    try:
        outcome = parse_nip(raw, today=TODAY)
    except NipError as error:
        outcome = error

    if isinstance(outcome, NipError):
        assert outcome.message
    else:
        assert len(outcome.nip) == 18


PLAUSIBLE_NIP = (
    # [0-9], not \d: hypothesis would fill \d with non-ASCII digits.
    "(19[4-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    "(19[6-9][0-9]|20[0-2][0-9])(0[0-9]|1[0-2]|21)[0-3][0-9]{3}"
)


@given(
    st.text(alphabet="0123456789", min_size=18, max_size=18)
    | st.from_regex(PLAUSIBLE_NIP, fullmatch=True)
)
def test_every_accepted_nip_is_one_make_nip_could_have_built(raw: str) -> None:
    try:
        parsed = parse_nip(raw, today=TODAY)
    except NipError:
        return

    assert date(1940, 1, 1) <= parsed.birth_date <= TODAY
    assert parsed.appointed <= TODAY
    rebuilt = make_nip(
        parsed.kind, parsed.birth_date, parsed.appointed, parsed.gender, parsed.serial
    )
    assert rebuilt == raw
