"""The "looks quiet in appointments" rule (ingest.analytics.activity.rule): the lowest
ceil(0.2 x n) of an ICB by appointments per 1,000 (ties by practice code) whose submissions
per 1,000 are at or above the ICB's median among practices that received submissions."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.analytics.activity.csv_file import rate_text
from ingest.analytics.activity.rule import PracticeMonth, looks_quiet, lowest_share, per_1000
from tests.support.activity_oracle import expected_flags

pytestmark = pytest.mark.unit


def practice(
    code: str, appointments: int | None, submissions: int | None, patients: int | None = 1000
) -> PracticeMonth:
    return PracticeMonth(code, "QHM", patients, appointments, submissions)


@pytest.mark.parametrize(("n", "share"), [(0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 3)])
def test_the_lowest_share_is_the_ceiling_of_a_fifth(n: int, share: int) -> None:
    assert lowest_share(n) == share == math.ceil(Fraction(n, 5))


def test_the_quietest_practice_busy_online_is_flagged_and_a_quiet_one_not_busy_is_not() -> None:
    practices = [
        practice("A00001", 100, 90),  # quietest, busiest online: flagged
        practice("A00002", 150, 5),  # second quietest, little online: not flagged
        *(practice(f"A0001{i}", 500 + i, 20 + i) for i in range(8)),
    ]
    # n = 10: the lowest 2. Receivers per 1,000: 5, 20..27, 90: median (23 + 24) / 2.
    assert looks_quiet(practices) == {"A00001"}


def test_at_the_median_exactly_counts_as_at_or_above() -> None:
    # Receivers' rates per 1,000: 10, 20, 30 (median 20); the quietest sits at 20 exactly.
    practices = [practice("A00001", 1, 20), practice("A00002", 50, 10), practice("A00003", 60, 30)]
    assert looks_quiet(practices) == {"A00001"}


def test_an_even_median_is_the_mean_of_the_middle_two_compared_exactly() -> None:
    # Rates with repeating decimals: the quietest's submissions per 1,000 (1000/3) is exactly
    # the mean of the other two (1000/6 and 500), which no decimal rounding may break.
    practices = [
        practice("A00001", 1, 1, patients=3),  # 333.33.. = (1000/6 + 500) / 2
        practice("A00002", 90, 1, patients=6),  # 166.66..
        practice("A00003", 90, 1, patients=2),  # 500
    ]
    assert per_1000(1, 3) == (per_1000(1, 6) + per_1000(1, 2)) / 2  # type: ignore[operator]
    # Receivers 166.6.., 333.3.., 500: the median is the quietest's own rate.
    assert looks_quiet(practices) == {"A00001"}
    even = [*practices, practice("A00004", 95, 1, patients=3)]
    # Receivers 166.6.., 333.3.., 333.3.., 500: the median is (333.3.. + 333.3..) / 2.
    assert looks_quiet(even) == {"A00001"}


def test_ties_on_appointments_per_1000_go_to_the_lower_practice_code() -> None:
    practices = [
        practice("A00002", 10, 50),
        practice("A00001", 20, 100, patients=2000),  # the same rates: 10 and 50 per 1,000
        *(practice(f"A0001{i}", 500, 50) for i in range(3)),
    ]
    assert looks_quiet(practices) == {"A00001"}  # n = 5: one place, the lower code takes it


def test_practices_without_list_size_or_appointments_are_not_counted_in_n() -> None:
    practices = [
        practice("A00001", 10, 50),
        practice("A00002", None, 50),  # not in GPAD
        practice("A00003", 0, 50),  # no appointments
        practice("A00004", 5, 50, patients=None),  # no list size
        *(practice(f"A0001{i}", 500, 50) for i in range(4)),
    ]
    # n = 5 (A00001 and the four): one place; A00001 has it.
    assert looks_quiet(practices) == {"A00001"}


def test_without_an_icb_or_without_receivers_nobody_is_flagged() -> None:
    no_icb = [
        PracticeMonth("A00001", None, 1000, 1, 100),
        PracticeMonth("A00002", None, 1000, 9, 1),
    ]
    assert looks_quiet(no_icb) == frozenset()
    nobody_online = [practice("A00001", 1, 0), practice("A00002", 9, None)]
    assert looks_quiet(nobody_online) == frozenset()


def test_each_icb_is_ranked_on_its_own() -> None:
    a = [PracticeMonth(f"A0000{i}", "QHM", 1000, 100 * (i + 1), 50) for i in range(5)]
    b = [PracticeMonth(f"B0000{i}", "QE1", 1000, 1000 * (i + 1), 50) for i in range(5)]
    assert looks_quiet([*a, *b]) == {"A00000", "B00000"}


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (None, ""),
        (Fraction(0), "0.00"),
        (Fraction(1, 200), "0.01"),
        (Fraction(1000, 3), "333.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(12345, 1000), "12.35"),
    ],
)
def test_rates_are_written_to_two_places_half_up(rate: Fraction | None, text: str) -> None:
    assert rate_text(rate) == text


# --- properties ------------------------------------------------------------------------------

figures = st.builds(
    lambda i, icb, patients, appts, subs: PracticeMonth(f"A{i:05d}", icb, patients, appts, subs),
    st.integers(0, 99999),
    st.sampled_from(["QHM", "QE1", None]),
    st.one_of(st.none(), st.integers(0, 40000)),
    st.one_of(st.none(), st.integers(0, 20000)),
    st.one_of(st.none(), st.integers(0, 5000)),
)
months = st.lists(figures, max_size=40, unique_by=lambda p: p.practice_code)


@settings(max_examples=300, deadline=None)
@given(months)
def test_the_rule_flags_exactly_what_its_literal_reading_flags(
    practices: list[PracticeMonth],
) -> None:
    assert looks_quiet(practices) == expected_flags(practices)


@settings(max_examples=200, deadline=None)
@given(months, st.randoms(use_true_random=False))
def test_the_order_of_the_practices_changes_nothing(
    practices: list[PracticeMonth], rnd: random.Random
) -> None:
    shuffled = list(practices)
    rnd.shuffle(shuffled)
    assert looks_quiet(shuffled) == looks_quiet(practices)


@settings(max_examples=200, deadline=None)
@given(months, st.integers(2, 7))
def test_scaling_counts_and_list_sizes_together_changes_nothing(
    practices: list[PracticeMonth], k: int
) -> None:
    def scaled(p: PracticeMonth) -> PracticeMonth:
        def times(v: int | None) -> int | None:
            return None if v is None else v * k

        return PracticeMonth(
            p.practice_code,
            p.icb_code,
            times(p.registered_patients),
            times(p.appointments),
            times(p.submissions),
        )

    assert looks_quiet([scaled(p) for p in practices]) == looks_quiet(practices)
