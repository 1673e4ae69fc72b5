"""Whatever the server answers (OK:n with n <= sent, errors, dropped connections, lost replies,
bare OK, counts of new rows only), the device never loses a punch: it never believes a row was
taken that the server did not store, and once the server behaves, the union of what the server
accepted equals what the device recorded."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.zkemu.helpers import BASE, fresh_sn
from zkemu import Device, Quirks
from zkemu.server_stub import Fault, StubServer

faults = st.one_of(
    st.builds(Fault.partial, st.integers(0, 10)),
    st.sampled_from(
        [
            Fault.ok(),
            Fault.error(),
            Fault.http_500(),
            Fault.drop_before(),
            Fault.drop_after(),
            Fault.bare_ok(),
            Fault.new_only(),
        ]
    ),
)
punches = st.tuples(
    st.sampled_from(["1", "2", "3", "1452", "8965"]),
    st.integers(0, 3600),
    st.sampled_from([0, 1]),
    st.sampled_from([1, 15]),
)


@pytest.fixture(scope="module")
def shared_stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(punches, min_size=1, max_size=30),
    plan=st.lists(faults, max_size=10),
    lost_replies=st.integers(0, 2),
    batch_size=st.integers(1, 8),
    policy=st.sampled_from(["strict", "prefix"]),
    reorder=st.booleans(),
    duplicates=st.booleans(),
    realtime=st.booleans(),
)
def test_no_acknowledgement_sequence_loses_a_punch(
    shared_stub: StubServer,
    rows: list[tuple[str, int, int, int]],
    plan: list[Fault],
    lost_replies: int,
    batch_size: int,
    policy: str,
    reorder: bool,
    duplicates: bool,
    realtime: bool,
) -> None:
    stub = shared_stub
    quirks = Quirks(
        batch_size=batch_size, ack_policy=policy, reorder=reorder, duplicate_lines=duplicates
    )
    device = Device(fresh_sn(), stub.url, quirks=quirks, time_scale=0, timeout=2, seed=1)
    device.auto_upload = realtime
    stub.plan(device.sn, *plan)
    assert device.boot()
    device.lose_next_acks(lost_replies)

    for pin, second, status, verify in rows:  # realtime: each punch tries an upload at once
        device.punch(pin, status, verify, at=BASE + timedelta(seconds=second))
        assert device.acked_keys() <= stub.accepted_keys(device.sn)
    for _ in range(len(plan) + lost_replies + 1):  # the bad answers are used up here
        device.flush(max_failures=1)
        assert device.acked_keys() <= stub.accepted_keys(device.sn)

    assert device.flush(max_failures=3)
    assert stub.accepted_keys(device.sn) == device.recorded_keys()
    assert device.pending_count() == 0
    assert not stub.device(device.sn).rejected
