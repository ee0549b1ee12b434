"""The machine-readable description of every dataset the project publishes: a Frictionless
Data Package descriptor (``datapackage.json`` beside this module, shipped in the wheel) with
each file's columns, their types, constraints and meaning.

Resources: ``practices``, ``national`` and ``time_bands`` (``ingest publish``) and
``activity`` (``ingest activity``). ``package_for`` gives a descriptor for files as written
(only the resources present, at their paths), to put beside them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from ingest.errors import IngestError

DESCRIPTOR = files("ingest.analytics").joinpath("datapackage.json")


class DataPackageError(IngestError):
    """A resource the descriptor does not have."""


@cache
def _descriptor_text() -> str:
    return DESCRIPTOR.read_text(encoding="utf-8")


def descriptor() -> dict[str, Any]:
    """The whole descriptor (a fresh copy)."""
    package: dict[str, Any] = json.loads(_descriptor_text())
    return package


def resource(name: str) -> dict[str, Any]:
    """One resource of the descriptor (a fresh copy)."""
    for entry in descriptor()["resources"]:
        if entry["name"] == name:
            return copy.deepcopy(dict(entry))
    raise DataPackageError(f"the data package has no resource {name!r}")


def columns(name: str) -> tuple[str, ...]:
    """The column names of a resource, in order."""
    return tuple(field["name"] for field in resource(name)["schema"]["fields"])


def package_for(paths: Mapping[str, str]) -> dict[str, Any]:
    """The descriptor with only the resources named in ``paths``, each at its given path."""
    package = descriptor()
    package["resources"] = []
    for name, path in paths.items():
        entry = resource(name)
        entry["path"] = path
        package["resources"].append(entry)
    return package
