"""``ingest reference practices | memberships | sub-icbs | list-sizes | participation | roster
| appointments | history``.

Each load command makes its file the current version of that kind of reference data
(the previous version is kept as history); loading the same content again changes nothing.
File layouts: the modules of ``ingest.reference`` and docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ingest.cli.common import database, run_async, settings
from ingest.reference.appointment_store import MonthLoad, load_appointment_files
from ingest.reference.records import ReferenceKind
from ingest.reference.store import (
    LoadInfo,
    LoadResult,
    load_file,
    load_history,
    load_membership_snapshots,
)

_out = Console(highlight=False, soft_wrap=True)

FileArg = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to load."),
]


def _load(
    kind: ReferenceKind, path: Path, *, merge: bool = False, icb_names: Path | None = None
) -> LoadResult:
    cfg = settings()

    async def go() -> LoadResult:
        async with database(cfg) as conn:
            return await load_file(conn, kind, path, merge=merge, icb_names=icb_names)

    return _report(kind, path.name, run_async(go()))


def _report(kind: ReferenceKind, source: str, result: LoadResult) -> LoadResult:
    if result.created:
        replaced = (
            f" (supersedes load {result.replaced_load_id})" if result.replaced_load_id else ""
        )
        _out.print(
            f"{kind.value}: loaded {result.row_count:,} rows from {source} "
            f"as load {result.load_id}{replaced}",
            markup=False,
        )
    else:
        _out.print(
            f"{kind.value}: unchanged: {source} has the same content as current load "
            f"{result.load_id} ({result.row_count:,} rows)",
            markup=False,
        )
    for line in result.summary:
        _out.print(f"{kind.value}: {line}", markup=False)
    return result


def practices(file: FileArg) -> None:
    """Load the NHS ODS GP practices file as published (epraccur.csv or epraccur.zip: 27
    columns, no header; letter or word status). Every row is loaded and classified by
    country and setting; a summary by class is printed."""
    _load(ReferenceKind.PRACTICES, file)


def memberships(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="The file to load; with --from-snapshots, the snapshots in date order.",
        ),
    ],
    from_snapshots: Annotated[
        bool,
        typer.Option(
            "--from-snapshots",
            help="Infer the periods from several snapshots given in date order: ODS "
            "epraccur files (.csv/.zip) and/or NHS England gp-reg-pat-prac-map.csv files. "
            "An epraccur snapshot is dated by --date for it, else by the latest date it "
            "mentions; a mapping file by its EXTRACT_DATE.",
        ),
    ] = False,
    dates: Annotated[
        list[str] | None,
        typer.Option(
            "--date",
            help="With --from-snapshots: the date of each file, in the same order "
            "(YYYY-MM-DD, or '-' to infer it). Give none or one per file.",
        ),
    ] = None,
) -> None:
    """Load practice -> sub-ICB memberships: the project's CSV (header
    practice_code,commissioner_code,effective_from,effective_to), NHS England's
    gp-reg-pat-prac-map.csv (a snapshot on its extract date), or --from-snapshots."""
    if not from_snapshots:
        if len(files) != 1 or dates:
            raise typer.BadParameter(
                "give one file (several only with --from-snapshots; --date only with it)"
            )
        _load(ReferenceKind.MEMBERSHIPS, files[0])
        return
    given = dates or []
    if given and len(given) != len(files):
        raise typer.BadParameter(f"{len(given)} --date for {len(files)} files", param_hint="--date")
    taken = [None if d == "-" else _iso_date(d) for d in given] or [None] * len(files)
    cfg = settings()

    async def go() -> LoadResult:
        async with database(cfg) as conn:
            return await load_membership_snapshots(conn, list(zip(files, taken, strict=True)))

    _report(
        ReferenceKind.MEMBERSHIPS,
        f"{len(files)} snapshots",
        run_async(go()),
    )


def _iso_date(value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from exc


def sub_icbs(
    file: FileArg,
    icb_names: Annotated[
        Path | None,
        typer.Option(
            "--icb-names",
            exists=True,
            dir_okay=False,
            readable=True,
            help="ICB names for the eccg file (which has none): an ONS lookup with "
            "ICByyCDH,ICByyNM columns, or icb_code,icb_name.",
        ),
    ] = None,
) -> None:
    """Load sub-ICB -> ICB mappings: the project's CSV (header
    sub_icb_code,sub_icb_name,icb_code,icb_name,effective_from,effective_to) or the ODS
    eccg file as published (eccg.csv/.zip: no header, 27 columns, parent ICB in column 4)."""
    _load(ReferenceKind.SUB_ICBS, file, icb_names=icb_names)


def list_sizes(
    file: FileArg,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="Add the file's extracts to the current list sizes instead of replacing "
            "them (for monthly files).",
        ),
    ] = False,
) -> None:
    """Load registered-patient list sizes (practice_code,extract_date,registered_patients,
    or the NHS Digital 'Patients Registered at a GP Practice' totals file)."""
    _load(ReferenceKind.LIST_SIZES, file, merge=merge)


def participation(file: FileArg) -> None:
    """Load the practice participation list (CSV with header:
    practice_code,participating_from,participating_to; an empty participating_to = still
    participating). While a list is loaded, events of practices not participating on their
    activity date are rejected practice_not_participating; the consumer applies a new list
    within a minute."""
    _load(ReferenceKind.PARTICIPATION, file)


def roster(file: FileArg) -> None:
    """Load the supplier roster (CSV with header:
    supplier_id,practice_code,installed_on,removed_on; an empty removed_on = still installed).
    Missing-practice detection then expects each installed practice from its supplier every
    day ("expected but not reported")."""
    _load(ReferenceKind.ROSTER, file)


def appointments(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="NHS England's Practice_Level_Crosstab_*.csv files, or the zip holding them.",
        ),
    ],
) -> None:
    """Load NHS England's "Appointments in General Practice" practice-level crosstab as
    published (the regional CSVs or the month's zip), folded to appointments per practice,
    month, mode and status. Each month becomes the current load of that month; loading a month
    again replaces it (both loads stay in the history). A bad file changes nothing."""
    cfg = settings()

    async def go() -> tuple[list[MonthLoad], list[str]]:
        async with database(cfg) as conn:
            return await load_appointment_files(conn, files)

    loads, notes = run_async(go())
    for note in notes:
        _out.print(f"appointments: {note}", markup=False)
    for load in loads:
        what = (
            f"{load.crosstab_rows:,} crosstab rows -> {load.row_count:,} rows, "
            f"{load.practices:,} practices"
        )
        if not load.created:
            _out.print(
                f"appointments {load.month}: unchanged: same content as current load "
                f"{load.load_id} ({what})",
                markup=False,
            )
            continue
        replaced = f" (supersedes load {load.replaced_load_id})" if load.replaced_load_id else ""
        _out.print(
            f"appointments {load.month}: loaded {what} as load {load.load_id}{replaced}",
            markup=False,
        )


def pcns(
    file: FileArg,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="Add the file's extract to the PCNs already loaded instead of replacing "
            "them (for monthly files).",
        ),
    ] = False,
) -> None:
    """Load each practice's primary care network and NHS England region, dated by extract,
    from NHS England's practice mapping file gp-reg-pat-prac-map.csv (columns PRACTICE_CODE,
    EXTRACT_DATE, PCN_CODE, PCN_NAME and, when present, COMM_REGION_CODE, COMM_REGION_NAME).
    The monthly publication takes each practice's latest extract on or before the month's end."""
    _load(ReferenceKind.PCNS, file, merge=merge)


def history(
    kind: Annotated[ReferenceKind | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """Every reference load, newest first (current ones marked)."""
    cfg = settings()

    async def go() -> list[LoadInfo]:
        async with database(cfg) as conn:
            return await load_history(conn, kind)

    table = Table("load", "kind", "source", "rows", "loaded at", "by", "current", "sha256")
    for info in run_async(go()):
        table.add_row(
            str(info.load_id),
            info.kind,
            Text(info.source_name),  # a file name: shown as it is, never as markup
            f"{info.row_count:,}",
            f"{info.loaded_at:%Y-%m-%d %H:%M:%S}",
            info.loaded_by,
            "yes" if info.is_current else f"until {info.superseded_at:%Y-%m-%d %H:%M}",
            info.content_sha256[:12],
        )
    _out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``reference`` group to ``app``."""
    group = typer.Typer(
        help="Load reference data: ODS practices, memberships, sub-ICB -> ICB, list sizes,"
        " practice participation, supplier roster, GPAD appointments.",
        no_args_is_help=True,
    )
    group.command("practices")(practices)
    group.command("memberships")(memberships)
    group.command("pcns")(pcns)
    group.command("sub-icbs")(sub_icbs)
    group.command("list-sizes")(list_sizes)
    group.command("participation")(participation)
    group.command("roster")(roster)
    group.command("appointments")(appointments)
    group.command("history")(history)
    app.add_typer(group, name="reference")
