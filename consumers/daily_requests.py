"""The runnable ingestion consumer (wiring only): ``python -m consumers.daily_requests``.

The same process as ``ingest run``; everything it does lives in :mod:`ingest.ops.process`.
"""

from __future__ import annotations

from ingest.ops.process import main

if __name__ == "__main__":
    main()
