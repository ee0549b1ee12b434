"""The "looks quiet in appointments" rule of contract v1.2 section 7 (pure, exact).

A practice *looks quiet in appointments* when, among the practices of its ICB with registered
patients and appointments in the month, it is among the lowest ``ceil(0.2 x n)`` by
appointments per 1,000 patients (ties by practice code), and its submissions per 1,000 are at
or above the median submissions per 1,000 of the ICB's practices that received submissions.

Rates are exact fractions: no rounding decides a rank or a comparison with the median. The
SQL function ``triage.practice_activity`` applies the same rule for analysts.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class PracticeMonth:
    """What the rule needs of a practice's month (None: not known)."""

    practice_code: str
    icb_code: str | None
    registered_patients: int | None
    appointments: int | None
    submissions: int | None


def per_1000(count: int | None, patients: int | None) -> Fraction | None:
    """``count`` per 1,000 registered patients, exactly; None without both."""
    if count is None or not patients:
        return None
    return Fraction(count * 1000, patients)


def lowest_share(n: int) -> int:
    """``ceil(0.2 x n)`` in whole numbers."""
    return (n + 4) // 5


def looks_quiet(practices: Iterable[PracticeMonth]) -> frozenset[str]:
    """The practice codes that look quiet in appointments."""
    by_icb: dict[str, list[PracticeMonth]] = defaultdict(list)
    for p in practices:
        if p.icb_code is not None:
            by_icb[p.icb_code].append(p)
    flagged: set[str] = set()
    for members in by_icb.values():
        ranked = sorted(
            (
                (rate, p)
                for p in members
                if p.appointments
                and (rate := per_1000(p.appointments, p.registered_patients)) is not None
            ),
            key=lambda pair: (pair[0], pair[1].practice_code),
        )
        lowest = [p for _, p in ranked[: lowest_share(len(ranked))]]
        received = [
            rate
            for p in members
            if p.submissions and (rate := per_1000(p.submissions, p.registered_patients))
        ]
        if not received:
            continue
        median = statistics.median(received)
        for p in lowest:
            rate = per_1000(p.submissions, p.registered_patients)
            if rate is not None and rate >= median:
                flagged.add(p.practice_code)
    return frozenset(flagged)
