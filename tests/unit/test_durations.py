from __future__ import annotations

import datetime as dt

import pytest

from ingest.durations import format_duration, parse_duration
from ingest.errors import DurationError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("26h", 93600),
        ("90m", 5400),
        ("10s", 10),
        ("2d", 172800),
        ("1h30m", 5400),
        (" 50H ", 180000),
    ],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "26", "h", "1.5h", "-2h", "0s", "26 hours"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(DurationError, match=r"26h|above zero"):
        parse_duration(text)


def test_format_round_trips() -> None:
    for text in ("26h", "1h30m", "10s", "50h"):
        assert format_duration(parse_duration(text)) == text
    assert format_duration(parse_duration("2d")) == "48h"
