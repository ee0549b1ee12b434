"""The `frictionless` library raises the csv module's field size limit for the whole process
when it first reads a CSV; tests of other code rely on the default. Use ``keep_csv_field_limit``
(autouse in the modules that validate with frictionless) to put it back after each test."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def keep_csv_field_limit() -> Iterator[None]:
    limit = csv.field_size_limit()
    yield
    csv.field_size_limit(limit)
