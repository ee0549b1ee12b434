"""Loading a national GPAD month (``ingest reference appointments``), one command:

    .venv/bin/python -m tests.bench.gpad_month                  # 5,000,000 rows, zipped
    .venv/bin/python -m tests.bench.gpad_month --rows 200000    # a quick look

On the local stack (``ingest stack up``, or INGEST_DATABASE_URL): generates a synthetic
national month of NHS England's practice-level crosstab in its published shape (6,300
practices in 7 regional CSVs inside one zip, as the month is published; each practice's rows
spread over HCP types, modes, national categories, booking lead times and statuses with
skewed weights, its size drawn from a list-size-like distribution), then runs the command as
people do (a subprocess of ``ingest reference appointments``) against a fresh migrated
database, and prints the wall time, rows per second and the command's peak RSS. A second run
loads the same file again (unchanged: read and checked, nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from ingest.db.migrate import migrate
from ingest.settings import load_settings
from tests.support.databases import scratch_database
from tests.support.gpad import HEADER

HCP = (("GP", 45), ("Other Practice staff", 50), ("Unknown", 5))
MODES = (
    ("Face-to-Face", 62),
    ("Telephone", 30),
    ("Video Conference/Online", 2),
    ("Home Visit", 1),
    ("Unknown", 5),
)
CATEGORIES = (
    "General Consultation Routine",
    "General Consultation Acute",
    "Clinical Triage",
    "Planned Clinics",
    "Planned Clinical Procedure",
    "Unplanned Clinical Activity",
    "Structured Medication Review",
    "Home Visit",
    "Care Home Visit",
    "Patient contact during Care Home Round",
    "Service provided by organisation external to the practice",
    "Social Prescribing Service",
    "Care Home Needs Assessment & Personalised Care and Support Planning",
    "Group Consultation and Group Education",
    "Walk-in",
    "Non-contractual chargeable work",
    "Inconsistent Mapping",
    "Unmapped",
)
LEAD = (
    "Same Day",
    "1 Day",
    "2 to 7 Days",
    "8  to 14 Days",
    "15  to 21 Days",
    "22  to 28 Days",
    "More than 28 Days",
    "Unknown / Data Quality",
)
STATUSES = (("Attended", 90), ("DNA", 4), ("Unknown", 6))
REGIONS = ("London", "SouthEast", "SouthWest", "Midlands", "EastOfEngland", "NorthWest", "NEY")


def generate(path: Path, rows: int, practices: int = 6300, seed: int = 7) -> int:
    """The zip of a synthetic national month at ``path``; the rows written."""
    rng = random.Random(seed)
    sizes = [max(1.0, rng.lognormvariate(0, 0.6)) for _ in range(practices)]
    scale = rows / sum(sizes)
    hcp = [h for h, w in HCP for _ in range(w)]
    modes = [m for m, w in MODES for _ in range(w)]
    statuses = [s for s, w in STATUSES for _ in range(w)]
    written = 0
    per_region = (practices + len(REGIONS) - 1) // len(REGIONS)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for r, region in enumerate(REGIONS):
            name = f"Practice_Level_Crosstab_Oct_24_{region}.csv"
            with z.open(name, "w") as raw, io.TextIOWrapper(raw, "utf-8", newline="") as text:
                out = csv.writer(text, lineterminator="\r\n")
                out.writerow(HEADER)
                for p in range(r * per_region, min(practices, (r + 1) * per_region)):
                    code = f"{chr(65 + p // 100000 % 26)}{p % 100000:05d}"
                    fixed = [
                        "01OCT2024",
                        code,
                        f"PRACTICE {p} MEDICAL CENTRE",
                        "EMIS" if p % 3 else "TPP",
                        f"U{p // 6:05d}",
                        f"PCN {p // 6}",
                        f"{p // 60:02d}X",
                        f"NHS SUB-ICB {p // 60}",
                    ]
                    for _ in range(round(sizes[p] * scale)):
                        out.writerow(
                            [
                                *fixed,
                                rng.choice(hcp),
                                rng.choice(modes),
                                rng.choice(CATEGORIES),
                                rng.choice(LEAD),
                                rng.randint(1, 400),
                                rng.choice(statuses),
                            ]
                        )
                        written += 1
    return written


def run_load(path: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, the command's CPU seconds, its peak RSS (KiB) and its output."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    ingest = str(Path(sys.executable).with_name("ingest"))
    start = time.perf_counter()
    done = subprocess.run(
        [ingest, "reference", "appointments", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"load failed ({done.returncode}): {done.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return seconds, cpu, max(usage.ru_maxrss, before), done.stdout


async def main_async(rows: int, server_url: str) -> None:
    """Generate, load twice and print (``server_url``: a role that may create databases)."""
    with tempfile.TemporaryDirectory(prefix="gpad-bench-") as folder:
        path = Path(folder) / "Practice_Level_Crosstab_Oct_24.zip"
        start = time.perf_counter()
        written = generate(path, rows)
        print(
            f"generated {written:,} rows ({path.stat().st_size / 1e6:.1f} MB zipped) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        # A database of its own, made and loaded by the owner role (loads need it).
        async with scratch_database(server_url) as url:
            await migrate(url)
            env = {**os.environ, "INGEST_DATABASE_URL": url}
            for label in ("first load", "same file again"):
                seconds, cpu, peak_kib, output = run_load(path, env)
                print(output.strip().splitlines()[-1])
                print(
                    f"{label}: {seconds:.1f} s wall, {cpu:.1f} s CPU, "
                    f"{written / seconds:,.0f} rows/s, peak RSS {peak_kib / 1024:.0f} MB"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    asyncio.run(main_async(args.rows, load_settings().migration_database()))


if __name__ == "__main__":
    main()
