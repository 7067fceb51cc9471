"""The one timestamp grammar of the client and the recorded server (``_runtime/timestamps.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sinch_calling._runtime.timestamps import parse_iso_datetime, parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-09-24T10:59:41Z", datetime(2014, 9, 24, 10, 59, 41, tzinfo=UTC)),
        ("2023-11-22T09:10:11.999Z", datetime(2023, 11, 22, 9, 10, 11, 999000, tzinfo=UTC)),
        ("2023-11-22T09:10:11.9999999Z", datetime(2023, 11, 22, 9, 10, 11, 999999, tzinfo=UTC)),
        ("2023-11-22 09:10:11,5+01:00", datetime(2023, 11, 22, 8, 10, 11, 500000, tzinfo=UTC)),
        ("2023-11-22T09:10:11+0100", datetime(2023, 11, 22, 8, 10, 11, tzinfo=UTC)),
        ("2023-11-22T09:10:11", datetime(2023, 11, 22, 9, 10, 11, tzinfo=UTC)),  # no zone: UTC
        ("Wed, 22 Nov 2023 09:10:11 GMT", datetime(2023, 11, 22, 9, 10, 11, tzinfo=UTC)),
    ],
)
def test_what_clients_and_sinch_send(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_the_offset_is_kept_and_a_naive_field_stays_naive() -> None:
    """Model fields are written back as they came (``format_datetime``)."""
    assert parse_iso_datetime("2024-06-06T17:36:00+02:00").utcoffset() == timedelta(hours=2)
    assert parse_iso_datetime("2024-06-06T17:36:00").tzinfo is None
    assert parse_timestamp("2024-06-06T17:36:00").tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "now",
        "2023-11-22",
        "2023-11-22T09:10Z",
        "2023-11-22T09:10:11.Z",
        "2023-02-30T00:00:00Z",
        "2023-11-22T09:10:11+24:00",
        " 2023-11-22T09:10:11Z",
        "\uff12\uff10\uff12\uff13-11-22T09:10:11Z",  # fullwidth digits: not ASCII
        "Fri, 27 Nov 99999999999999999999 10:55:48 GMT",  # an OverflowError inside email.utils
        "2023-11-22T09:10:11." + "1" * 100,
    ],
)
def test_anything_else_is_a_value_error_that_quotes_it_briefly(text: str) -> None:
    with pytest.raises(ValueError, match="x-timestamp") as raised:
        parse_timestamp(text)
    assert len(str(raised.value)) < 120
