"""The sandbox keeps moments as fixed-width UTC text, and reads them back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from reconciler.sandbox.store import _from_text, _to_text

MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)


@given(MOMENTS)
def test_a_moment_reads_back_as_it_was_written(moment: datetime) -> None:
    assert _from_text(_to_text(moment)) == moment
    assert _from_text(_to_text(moment)).tzinfo is UTC


def test_the_text_is_what_strptime_read_before() -> None:
    """What the database holds (databases made before this reader included) reads the
    same, to the microsecond, whole seconds and an offset given in included."""
    eastern = datetime(2026, 3, 1, 9, 30, 0, tzinfo=timezone(timedelta(hours=-5)))
    for moment in (datetime(2026, 12, 4, 19, 3, 11, 123456, tzinfo=UTC), eastern):
        text = _to_text(moment)
        before = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert _from_text(text) == before == moment
    assert _to_text(eastern) == "2026-03-01T14:30:00.000000Z"
