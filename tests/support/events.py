"""Building supplier events for tests (shared by unit and integration suites)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from typing import Any

from ingest.contract.encoding import encode_single_object, record_key
from ingest.contract.model import BAND_FIELDS
from ingest.contract.schemas import SchemaVersion, version

TODAY = dt.date(2026, 11, 25)


def event(
    supplier_id: str = "askmygp",
    practice_code: str = "A81001",
    activity_date: dt.date | None = None,
    revision: int = 1,
    total: int = 10,
    clinical: int | None = None,
    admin: int | None = None,
    other: int | None = None,
    bands: Sequence[int | None] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid v3-shaped event (older writers drop the fields they lack); ``bands`` are the
    nine time bands in BAND_FIELDS order (default: all null)."""
    band_values = [None] * len(BAND_FIELDS) if bands is None else list(bands)
    return {
        "event_id": str(extra.pop("event_id", uuid.uuid4())),
        "supplier_id": supplier_id,
        "practice_code": practice_code,
        "activity_date": activity_date or dt.date.today() - dt.timedelta(days=1),
        "revision": revision,
        "generated_at": extra.pop("generated_at", dt.datetime.now(dt.UTC)),
        "total_requests": total,
        "clinical_requests": clinical,
        "admin_requests": admin,
        "other_requests": other,
        "patient_submitted_requests": extra.pop("patient", None),
        "staff_submitted_requests": extra.pop("staff", None),
        **dict(zip(BAND_FIELDS, band_values, strict=True)),
        **extra,
    }


def split_into_bands(total: int, rng: random.Random) -> list[int]:
    """Nine non-negative time bands summing to ``total`` (random cut points)."""
    cuts = sorted(rng.randint(0, total) for _ in range(len(BAND_FIELDS) - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def encoded(payload: dict[str, Any], schema_version: int = 1) -> bytes:
    """Single-object encoding with a released writer version."""
    schema: SchemaVersion = version(schema_version)
    fields = set(schema.field_names)
    return encode_single_object({k: v for k, v in payload.items() if k in fields}, schema)


def key_of(payload: dict[str, Any]) -> bytes:
    return record_key(payload["practice_code"], payload["activity_date"])


def yesterday(days: int = 1) -> dt.date:
    """The real day ``days`` before today (events' default activity_date is yesterday)."""
    return dt.date.today() - dt.timedelta(days=days)
