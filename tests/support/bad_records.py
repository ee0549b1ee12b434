"""One record per reason code that decoding or validation gives, for tests."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.support.events import encoded, event


def bad_records(
    supplier: str, other: str, day: dt.date
) -> dict[str, tuple[bytes | None, bytes | None]]:
    """One record per reason code that validation or decoding gives."""
    unknown_fp = b"\xc3\x01" + uuid.uuid4().bytes[:8] + b"\x00"
    return {
        "undecodable": (b"\xff\xfe not utf-8", b"\x42 random bytes"),
        "unknown_schema": (None, unknown_fp),
        "supplier_mismatch": (None, encoded(event(other, "A81001", day))),
        "invalid_event_id": (None, encoded(event(supplier, "A81001", day, event_id="not-a-uuid"))),
        "invalid_practice_code": (None, encoded(event(supplier, "81001A", day))),
        "activity_date_out_of_range": (
            None,
            encoded(event(supplier, "A81001", dt.date.today() + dt.timedelta(days=40))),
        ),
        "negative_count": (None, encoded(event(supplier, "A81001", day, total=-4))),
        "inconsistent_breakdown": (
            None,
            encoded(event(supplier, "A81001", day, total=9, clinical=1, admin=1, other=1)),
        ),
        "implausible_count": (None, encoded(event(supplier, "A81001", day, total=100_001))),
        "invalid_revision": (None, encoded(event(supplier, "A81001", day, revision=0))),
    }
