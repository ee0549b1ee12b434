"""``ingest publish``: a month's practice-level and national CSVs with a methods-and-caveats
README, as editions (re-publishing writes what changed since the last edition)."""
