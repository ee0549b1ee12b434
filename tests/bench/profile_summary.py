"""Summarising a py-spy collapsed-stack profile (``py-spy record --format raw``): where the
consumer's CPU samples go, by stage of the path, and the hottest functions."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# Stage of a sample = the innermost frame that matches one of these (checked in this order).
STAGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("outcome relay (ingest/consumer/outcome_relay.py)", re.compile(r"consumer/outcome_relay\.py")),
    ("outbox rows in the batch (ingest/consumer/outbox.py)", re.compile(r"consumer/outbox\.py")),
    (
        "decode (ingest/consumer/decoding.py, fast_reader.py, fastavro)",
        re.compile(r"consumer/decoding\.py|consumer/fast_reader\.py|fastavro"),
    ),
    ("validate (ingest/contract/validation.py)", re.compile(r"contract/validation\.py")),
    ("resolve (ingest/consumer/resolution.py)", re.compile(r"consumer/resolution\.py")),
    ("triage/rows (ingest/consumer/pipeline.py)", re.compile(r"consumer/pipeline\.py")),
    ("Postgres client (asyncpg: COPY encode, protocol)", re.compile(r"asyncpg")),
    ("store (ingest/consumer/store.py)", re.compile(r"consumer/store\.py")),
    ("Kafka client (aiokafka: fetch, parse records)", re.compile(r"aiokafka|kafka/")),
    ("consumer loop (ingest/consumer/service.py)", re.compile(r"ingest/consumer/service\.py")),
    ("metrics/HTTP/refresher", re.compile(r"prometheus_client|aiohttp|ingest/refresher|metrics")),
    ("event loop, threads, other", re.compile(r".")),
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse_collapsed(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{match['func']} ({file})"


def stage_shares(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """(samples per stage, self samples per function, total samples)."""
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for frames, count in parse_collapsed(path):
        total += count
        leaves[_short(frames[-1])] += count
        for frame in reversed(frames):
            stage = next((name for name, rx in STAGES[:-1] if rx.search(frame)), None)
            if stage is not None:
                stages[stage] += count
                break
        else:
            stages[STAGES[-1][0]] += count
    return stages, leaves, total


def summarise_collapsed(path: Path, top: int = 12) -> list[str]:
    """Readable lines: the share of samples of each stage, then the hottest functions."""
    stages, leaves, total = stage_shares(path)
    if not total:
        return [f"profile {path}: no samples"]
    lines = [f"py-spy profile {path.name}: {total:,} samples"]
    lines += [f"{n / total:6.1%}  {name}" for name, n in stages.most_common()]
    lines.append("hottest functions (self time):")
    lines += [f"{n / total:6.1%}  {name}" for name, n in leaves.most_common(top)]
    return lines


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        print("\n".join(summarise_collapsed(Path(arg))))
