"""Durations such as ``26h``, ``90m``, ``10s``, ``2d`` or ``1h30m`` (pure)."""

from __future__ import annotations

import datetime as dt
import re

from ingest.errors import DurationError

_PART_RE = re.compile(r"([0-9]+)([dhms])")
_WHOLE_RE = re.compile(r"(?:[0-9]+[dhms])+")  # ASCII digits, fullmatch
_MAX_DAYS = 36600  # a century: anything longer is a typo, not a threshold
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``26h``-style durations; raises DurationError with the accepted forms."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE_RE.fullmatch(cleaned):
        raise DurationError(
            f"duration {text!r} is not understood: use a number and a unit d, h, m or s,"
            " e.g. 26h, 90m, 10s, 1h30m"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(cleaned))
    if seconds <= 0:
        raise DurationError(f"duration {text!r} must be above zero")
    if seconds > _MAX_DAYS * 86400:
        raise DurationError(f"duration {text!r} is longer than {_MAX_DAYS} days")
    return dt.timedelta(seconds=seconds)


def format_duration(value: dt.timedelta) -> str:
    """``26h``-style text of a duration, in hours, minutes and seconds."""
    remaining = int(value.total_seconds())
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
