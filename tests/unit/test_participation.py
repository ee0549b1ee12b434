"""Practice participation (contract v1.1 section 6): the list file, the look-up, the rule."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import triage
from ingest.consumer.types import RawRecord
from ingest.contract.model import Reason
from ingest.contract.participation import ParticipationList, ParticipationPeriod
from ingest.contract.validation import Limits
from ingest.reference.csv_input import ReferenceFileError
from ingest.reference.participation_list import parse_participation
from tests.support.events import TODAY, encoded, event, key_of

D = dt.date


def listed(*periods: tuple[str, dt.date, dt.date | None]) -> ParticipationList:
    return ParticipationList.of(7, (ParticipationPeriod(*p) for p in periods))


def test_the_file_gives_one_period_per_row_with_an_empty_end_open() -> None:
    text = (
        "practice_code,participating_from,participating_to,note\r\n"
        "A81001,2026-01-01,,signed\r\n"
        "b82002,2026-02-01,2026-06-30,\r\n"
    )
    assert parse_participation(text) == [
        ParticipationPeriod("A81001", D(2026, 1, 1), None),
        ParticipationPeriod("B82002", D(2026, 2, 1), D(2026, 6, 30)),
    ]


def test_a_bad_date_is_refused_with_its_line_number() -> None:
    text = "practice_code,participating_from,participating_to\nA81001,2026-01-01,\nA81002,1/2/26,\n"
    with pytest.raises(ReferenceFileError, match=r"line 3: participating_from '1/2/26'"):
        parse_participation(text)


def test_overlapping_periods_of_one_practice_are_refused() -> None:
    text = (
        "practice_code,participating_from,participating_to\n"
        "A81001,2026-01-01,2026-03-31\n"
        "A81001,2026-03-31,\n"
    )
    with pytest.raises(ReferenceFileError, match="A81001"):
        parse_participation(text)


def test_a_file_without_the_header_is_refused() -> None:
    with pytest.raises(ReferenceFileError, match="header lacks participating_from"):
        parse_participation("practice_code,from,to\nA81001,2026-01-01,\n")


def test_both_ends_of_a_period_are_included() -> None:
    members = listed(("A81001", D(2026, 2, 1), D(2026, 2, 28)))
    assert members.includes("A81001", D(2026, 2, 1))
    assert members.includes("A81001", D(2026, 2, 28))
    assert not members.includes("A81001", D(2026, 1, 31))
    assert not members.includes("A81001", D(2026, 3, 1))


def test_an_open_period_runs_on_and_an_unlisted_practice_never_participates() -> None:
    members = listed(("A81001", D(2026, 2, 1), None))
    assert members.includes("A81001", D(2099, 12, 31))
    assert not members.includes("B82002", D(2026, 6, 1))


def _triage(limits: Limits, *payloads: dict[str, object]) -> list[Reason | None]:
    records = [
        RawRecord("triage.daily.askmygp", 0, n, key_of(p), encoded(p))
        for n, p in enumerate(payloads)
    ]
    out = triage(records, Decoder(), {"askmygp"}, limits)
    reasons: dict[int, Reason | None] = {e.source.offset: None for e in out.valid}
    reasons.update({r.source.offset: r.reason for r in out.rejections})
    return [reasons[n] for n in range(len(payloads))]


def test_with_a_list_loaded_a_non_participating_practice_is_rejected() -> None:
    day = TODAY - dt.timedelta(days=1)
    members = listed(("A81001", day, None))
    limits = Limits(today=TODAY, participation=members)
    assert _triage(limits, event("askmygp", "A81001", day), event("askmygp", "B82002", day)) == [
        None,
        Reason.PRACTICE_NOT_PARTICIPATING,
    ]


def test_a_day_before_the_practice_joined_is_rejected() -> None:
    day = TODAY - dt.timedelta(days=1)
    limits = Limits(today=TODAY, participation=listed(("A81001", TODAY, None)))
    assert _triage(limits, event("askmygp", "A81001", day)) == [Reason.PRACTICE_NOT_PARTICIPATING]


def test_with_no_list_loaded_no_event_is_rejected_for_participation() -> None:
    day = TODAY - dt.timedelta(days=1)
    assert _triage(Limits(today=TODAY), event("askmygp", "B82002", day)) == [None]


def test_the_detail_names_the_practice_the_day_and_the_load() -> None:
    day = TODAY - dt.timedelta(days=1)
    records = [
        RawRecord("triage.daily.askmygp", 0, 0, None, encoded(event("askmygp", "B82002", day)))
    ]
    limits = Limits(today=TODAY, participation=listed(("A81001", day, None)))
    (rejection,) = triage(records, Decoder(), {"askmygp"}, limits).rejections
    assert rejection.detail.startswith(
        f"practice B82002 was not participating on {day.isoformat()} (participation list, load 7)"
    )


def test_an_invalid_practice_code_keeps_its_own_reason_when_a_list_is_loaded() -> None:
    day = TODAY - dt.timedelta(days=1)
    limits = Limits(today=TODAY, participation=listed(("A81001", day, None)))
    assert _triage(limits, event("askmygp", "A8100", day)) == [Reason.INVALID_PRACTICE_CODE]
