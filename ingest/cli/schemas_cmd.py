"""``ingest schemas``: the released Avro schema versions and their fingerprints, as suppliers
need them (both byte orders, the canonical form)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ingest.cli.common import run_async
from ingest.cli.common import settings as load_cli_settings
from ingest.contract.schemas import SCHEMA_NAME, SchemaVersion, released_versions
from ingest.ops.schema_release import SchemaRegistrationError, register_released

_out = Console(highlight=False, soft_wrap=True)


def fingerprint_facts(schema: SchemaVersion) -> dict[str, object]:
    """A released version's fingerprint in every form a supplier meets it."""
    number = int.from_bytes(schema.fingerprint, "little")
    signed = number - (1 << 64) if number >= 1 << 63 else number
    return {
        "version": schema.version,
        "name": SCHEMA_NAME,
        # the 8 bytes after C3 01 in a single-object encoded value (little-endian)
        "single_object_header_hex": schema.fingerprint.hex(),
        # the same CRC-64-AVRO as a 64-bit number: Java's
        # SchemaNormalization.parsingFingerprint64 (Long.toHexString / the long itself)
        "fingerprint64_hex": f"{number:016x}",
        "fingerprint64_signed": signed,
        "canonical_form": schema.canonical_form,
    }


def _register(subject: str) -> None:
    url = load_cli_settings().schema_registry_url
    if not url:
        raise SchemaRegistrationError(
            "--register needs INGEST_SCHEMA_REGISTRY_URL (the registry's Confluent-compatible"
            " API, e.g. http://HOST:PORT/apis/ccompat/v7)"
        )
    done = run_async(register_released(url, subject))
    ids = ", ".join(f"v{r.version} = id {r.schema_id}" for r in done)
    _out.print(f"registered under {escape(subject)} (compatibility BACKWARD): {ids}")


def register(app: typer.Typer) -> None:
    @app.command("schemas")
    def schemas(
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per version, with more fields.")
        ] = False,
        canonical: Annotated[
            bool, typer.Option("--canonical", help="Also print each Parsing Canonical Form.")
        ] = False,
        register_subject: Annotated[
            str | None,
            typer.Option(
                "--register",
                metavar="SUBJECT",
                help="Also register every released version, oldest first, under SUBJECT (e.g."
                " triage.daily.<supplier_id>-value) in the schema registry of"
                " INGEST_SCHEMA_REGISTRY_URL, its compatibility set to BACKWARD first.",
            ),
        ] = None,
    ) -> None:
        """Print the released schema versions and their CRC-64-AVRO fingerprints."""
        if register_subject is not None:
            _register(register_subject)
        facts = [fingerprint_facts(s) for s in released_versions()]
        if as_json:
            for item in facts:
                _out.print(json.dumps(item), markup=False)
            return
        table = Table(title=f"released versions of {SCHEMA_NAME}")
        table.add_column("version")
        table.add_column("single-object header bytes (after C3 01)")
        table.add_column("as a 64-bit number (Java parsingFingerprint64)")
        for item in facts:
            table.add_row(
                f"v{item['version']}",
                str(item["single_object_header_hex"]),
                f"0x{item['fingerprint64_hex']} = {item['fingerprint64_signed']}",
            )
        _out.print(table)
        if canonical:
            for item in facts:
                _out.print(f"v{item['version']}: {escape(str(item['canonical_form']))}")
