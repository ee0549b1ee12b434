"""The data package descriptor (ingest.analytics.datapackage): a valid Frictionless
descriptor, describing exactly the columns the activity CSV writes, every column explained."""

from __future__ import annotations

import pytest
from frictionless import Package

from ingest.analytics.activity.csv_file import COLUMNS
from ingest.analytics.datapackage import DataPackageError, columns, descriptor, package_for
from tests.support.frictionless_csv import keep_csv_field_limit  # noqa: F401 (autouse)

pytestmark = pytest.mark.unit


def test_the_descriptor_is_a_valid_frictionless_data_package() -> None:
    report = Package.validate_descriptor(descriptor())
    assert report.valid, report.flatten(["type", "note"])


def test_it_describes_every_published_file() -> None:
    names = [r["name"] for r in descriptor()["resources"]]
    assert names == ["practices", "national", "time_bands", "activity"]


def test_the_activity_resource_has_the_columns_the_csv_writes_in_order() -> None:
    assert columns("activity") == COLUMNS


def test_every_column_has_a_type_and_a_meaning() -> None:
    for entry in descriptor()["resources"]:
        for field in entry["schema"]["fields"]:
            assert field["type"] and len(field["description"]) > 10, (entry["name"], field)


def test_a_package_for_written_files_holds_only_them_at_their_paths() -> None:
    package = package_for({"activity": "activity-2024-10.csv"})
    assert [(r["name"], r["path"]) for r in package["resources"]] == [
        ("activity", "activity-2024-10.csv")
    ]
    with pytest.raises(DataPackageError, match="no resource 'nope'"):
        package_for({"nope": "x.csv"})
