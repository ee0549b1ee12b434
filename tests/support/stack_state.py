"""Which local stack the suite uses when no addresses are exported: INGEST_STATE_DIR's, else
the checkout's ``.ingest-test/`` (the one ``make test`` starts), never the demo's ``.ingest/``."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.databases import REPO_ROOT

TEST_STATE_DIR = REPO_ROOT / ".ingest-test"


def local_state_dir() -> Path:
    configured = os.environ.get("INGEST_STATE_DIR")
    return Path(configured) if configured else TEST_STATE_DIR
