"""Any bytes in, a clean protocol answer out: the body parsers never raise, never drop a
valid line, and count every line for the device's acknowledgement."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.presence import iclock

valid_punch = st.builds(
    lambda pin, minutes, status, verify, extra: "\t".join(
        [
            pin,
            (datetime(2020, 1, 1) + timedelta(minutes=minutes)).strftime(iclock.TIME_FORMAT),
            str(status),
            str(verify),
            *["0"] * extra,
        ]
    ),
    st.from_regex(r"[A-Za-z0-9]{1,24}", fullmatch=True),
    st.integers(0, 5_000_000),
    st.integers(0, 255),
    st.integers(0, 30),
    st.sampled_from([0, 3, 6]),  # 4, 7 or 10 fields
)
# A line that is blank once the CR and the trailing NULs a device pads with are dropped is no
# line at all for the parser (`iclock.body_lines`): junk is anything else.
junk_line = st.text(max_size=80).filter(
    lambda s: "\n" not in s and s.rstrip("\r\x00").strip() != ""
)


@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_an_exception(body: bytes) -> None:
    text, _ = iclock.body_text(body)
    punches, bad = iclock.parse_attlog(text)
    assert len(punches) + len(bad) == len(iclock.body_lines(text))
    operlog = iclock.parse_operlog(text)
    assert operlog.lines == len(iclock.body_lines(text))
    iclock.parse_command_results(text)
    iclock.parse_device_options(text)
    iclock.parse_info(text)


@settings(max_examples=200)
@given(st.lists(st.one_of(valid_punch, junk_line), max_size=40), st.booleans())
def test_every_valid_line_is_read_whatever_surrounds_it(lines: list[str], crlf: bool) -> None:
    body = ("\r\n" if crlf else "\n").join(lines).encode()
    punches, bad = iclock.parse_attlog(iclock.body_text(body)[0])
    read = {(p.pin, p.time_text) for p in punches}
    for line in lines:
        fields = line.split("\t")
        if (
            len(fields) >= 4
            and iclock.pin_valid(fields[0])
            and fields[2].isascii()
            and fields[2].isdigit()
            and int(fields[2]) in iclock.CODE_RANGE
        ):
            try:
                iclock.parse_time(fields[1])
            except ValueError:
                continue
            assert (fields[0], fields[1]) in read
    assert len(punches) + len(bad) == sum(1 for line in lines if line.strip())


@given(st.text(max_size=60), st.text(max_size=30))
def test_a_user_command_is_refused_or_stays_one_clean_line(name: str, card: str) -> None:
    try:
        text = iclock.user_update_command("1001", name, card=card)
    except iclock.CommandRefused:
        return
    assert "\n" not in text
    assert "\r" not in text
    assert text.count("\t") == 7
    assert iclock.command_kind(text) == "user_update"
