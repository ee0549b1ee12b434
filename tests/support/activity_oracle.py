"""The "looks quiet in appointments" rule read literally (contract v1.2 section 7), by
counting rather than sorting, sharing no code with ingest.analytics.activity.rule: the
expected flags of the unit, integration and documentation tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from ingest.analytics.activity.rule import PracticeMonth


def expected_flags(practices: Sequence[PracticeMonth]) -> set[str]:
    flagged = set()
    for p in practices:
        if p.icb_code is None:
            continue
        icb = [q for q in practices if q.icb_code == p.icb_code]
        eligible = [q for q in icb if q.registered_patients and q.appointments]
        if p not in eligible:
            continue

        def key(q: PracticeMonth) -> tuple[Fraction, str]:
            assert q.appointments is not None and q.registered_patients
            return Fraction(q.appointments, q.registered_patients), q.practice_code

        below = sum(1 for q in eligible if key(q) < key(p))
        if below >= math.ceil(Fraction(2, 10) * len(eligible)):
            continue
        rates = sorted(
            Fraction(q.submissions, q.registered_patients)
            for q in icb
            if q.submissions and q.registered_patients
        )
        if not rates or not p.submissions:
            continue
        m = len(rates)
        median = (rates[(m - 1) // 2] + rates[m // 2]) / 2
        assert p.registered_patients
        if Fraction(p.submissions, p.registered_patients) >= median:
            flagged.add(p.practice_code)
    return flagged
