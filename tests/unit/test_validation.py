"""Validation: every reason code of the contract, each with a detail a supplier can act on."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record, triage
from ingest.consumer.types import RawRecord
from ingest.contract.model import BAND_FIELDS, Reason, Rejection
from ingest.contract.validation import Limits
from ingest.db.migrate import discover
from tests.support.events import TODAY, encoded, event, key_of

LIMITS = Limits(today=TODAY, horizon_days=400, plausibility_cap=100_000)
REGISTERED = {"askmygp", "klinik"}
decoder = Decoder()


def check(
    payload: dict[str, object], topic: str = "triage.daily.askmygp", version: int = 1
) -> Rejection:
    record = RawRecord(topic, 0, 7, key_of(payload), encoded(payload, version))
    result = check_record(record, decoder, REGISTERED, LIMITS)
    assert isinstance(result, Rejection), f"expected a rejection, got {result}"
    return result


def yesterday() -> dt.date:
    return TODAY - dt.timedelta(days=1)


def test_a_valid_event_passes_with_its_source_position() -> None:
    payload = event(activity_date=yesterday(), total=12, clinical=5, admin=4, other=3)
    record = RawRecord("triage.daily.askmygp", 2, 9, key_of(payload), encoded(payload))
    result = check_record(record, decoder, REGISTERED, LIMITS)
    assert not isinstance(result, Rejection)
    assert result.figures[:4] == (12, 5, 4, 3)
    assert (result.source.partition, result.source.offset) == (2, 9)


def test_unregistered_topic_supplier_is_unknown_supplier() -> None:
    r = check(event(supplier_id="newco", activity_date=yesterday()), "triage.daily.newco")
    assert r.reason == Reason.UNKNOWN_SUPPLIER
    assert "'newco'" in r.detail
    assert r.supplier_id is None


def test_topic_that_names_no_supplier_is_unknown_supplier() -> None:
    r = check(event(activity_date=yesterday()), "triage.daily.X")
    assert r.reason == Reason.UNKNOWN_SUPPLIER


def test_event_claiming_another_supplier_is_supplier_mismatch() -> None:
    r = check(event(supplier_id="klinik", activity_date=yesterday()))
    assert r.reason == Reason.SUPPLIER_MISMATCH
    assert r.detail == "supplier_id 'klinik' differs from the topic's supplier 'askmygp'"
    assert r.supplier_id == "askmygp"


@pytest.mark.parametrize(
    "event_id",
    [
        "not-a-uuid",
        "",
        "3f2b8c1e9a4d4e6f8b7a1c2d3e4f5a6b",
        "{3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b}",
    ],
)
def test_event_id_that_is_not_a_uuid_is_invalid_event_id_naming_the_field(event_id: str) -> None:
    r = check(event(event_id=event_id, activity_date=yesterday()))
    assert r.reason == Reason.INVALID_EVENT_ID
    assert r.detail.startswith(f"event_id {event_id!r} is not a UUID")


def test_invalid_event_id_detail_quotes_at_most_100_characters_of_the_value() -> None:
    r = check(event(event_id="x" * 5000, activity_date=yesterday()))
    assert r.reason == Reason.INVALID_EVENT_ID
    assert f"event_id {'x' * 100!r}... (4900 more characters) is not a UUID" in r.detail


def test_invalid_event_id_comes_after_supplier_mismatch_and_before_practice_code() -> None:
    both = check(event(event_id="nope", practice_code="bad", activity_date=yesterday()))
    assert both.reason == Reason.INVALID_EVENT_ID
    assert "practice_code 'bad'" in both.detail
    mismatch = check(event(event_id="nope", supplier_id="klinik", activity_date=yesterday()))
    assert mismatch.reason == Reason.SUPPLIER_MISMATCH


def test_upper_case_event_id_is_accepted_and_kept_lower_case() -> None:
    event_id = "3F2B8C1E-9A4D-4E6F-8B7A-1C2D3E4F5A6B"
    payload = event(event_id=event_id, activity_date=yesterday())
    record = RawRecord("triage.daily.askmygp", 0, 1, key_of(payload), encoded(payload))
    result = check_record(record, decoder, REGISTERED, LIMITS)
    assert not isinstance(result, Rejection)
    assert result.event_id == event_id.lower()


@pytest.mark.parametrize("code", ["a81001", "A8100", "A810011", "AB1234", "", "A81 01"])
def test_bad_practice_code_is_invalid_practice_code(code: str) -> None:
    r = check(event(practice_code=code, activity_date=yesterday()))
    assert r.reason == Reason.INVALID_PRACTICE_CODE
    assert repr(code) in r.detail


def test_future_day_is_out_of_range_with_both_dates_in_the_detail() -> None:
    r = check(event(activity_date=dt.date(2027, 1, 3)))
    assert r.reason == Reason.ACTIVITY_DATE_OUT_OF_RANGE
    assert r.detail == "activity_date 2027-01-03 is after today 2026-11-25"


def test_today_itself_is_accepted() -> None:
    payload = event(activity_date=TODAY)
    record = RawRecord("triage.daily.askmygp", 0, 0, None, encoded(payload))
    assert not isinstance(check_record(record, decoder, REGISTERED, LIMITS), Rejection)


def test_day_beyond_the_horizon_is_out_of_range() -> None:
    r = check(event(activity_date=TODAY - dt.timedelta(days=401)))
    assert r.reason == Reason.ACTIVITY_DATE_OUT_OF_RANGE
    assert "older than the 400-day horizon (oldest accepted 2025-10-21)" in r.detail


def test_negative_part_is_negative_count() -> None:
    r = check(event(activity_date=yesterday(), total=5, admin=-1))
    assert r.reason == Reason.NEGATIVE_COUNT
    assert r.detail == "admin_requests -1 is negative"


def test_parts_not_summing_to_total_is_inconsistent_breakdown() -> None:
    r = check(event(activity_date=yesterday(), total=10, clinical=5, admin=4, other=3))
    assert r.reason == Reason.INCONSISTENT_BREAKDOWN
    assert "5 + 4 + 3 = 12, not total_requests 10" in r.detail


def test_time_bands_summing_to_total_pass_with_their_figures() -> None:
    bands = (1, 0, 3, 2, 1, 1, 1, 0, 1)
    payload = event(activity_date=yesterday(), total=sum(bands), bands=bands)
    record = RawRecord("triage.daily.askmygp", 0, 0, None, encoded(payload, 3))
    result = check_record(record, decoder, REGISTERED, LIMITS)
    assert not isinstance(result, Rejection), result
    assert result.figures[-len(BAND_FIELDS) :] == bands


def test_time_bands_not_summing_to_total_are_inconsistent_breakdown_naming_fields_and_sum() -> None:
    bands = (1, 0, 3, 2, 1, 1, 1, 0, 1)
    total = sum(bands) + 1
    r = check(event(activity_date=yesterday(), total=total, bands=bands), version=3)
    assert r.reason == Reason.INCONSISTENT_BREAKDOWN
    assert r.detail == (
        f"{' + '.join(BAND_FIELDS)} = {' + '.join(map(str, bands))} = {sum(bands)},"
        f" not total_requests {total}"
    )


def test_time_bands_partly_null_are_inconsistent_breakdown_naming_the_null_ones() -> None:
    bands = (5, 5, None, 0, 0, 0, 0, None, 0)
    r = check(event(activity_date=yesterday(), total=10, bands=bands), version=3)
    assert r.reason == Reason.INCONSISTENT_BREAKDOWN
    assert r.detail.startswith("time bands partly null: requests_08_10, requests_18_24 null")
    assert "sum to 10, total_requests 10" in r.detail


def test_a_negative_time_band_is_inconsistent_breakdown() -> None:
    """All nine present and summing to the total, but one below 0: the band rule of contract
    v1.2 section 7 (all null, or all present, each >= 0, summing to the total; anything else
    inconsistent_breakdown) is broken, and the detail names the bands and their sum."""
    bands = (11, 0, 0, 0, 0, 0, 0, 0, -1)
    r = check(event(activity_date=yesterday(), total=sum(bands), bands=bands), version=3)
    assert r.reason == Reason.INCONSISTENT_BREAKDOWN
    assert r.detail.startswith("time bands must each be >= 0 (requests_time_unknown below 0)")
    assert "= 10, total_requests 10" in r.detail


def test_time_bands_all_null_pass_in_v3() -> None:
    payload = event(activity_date=yesterday(), total=10)
    record = RawRecord("triage.daily.askmygp", 0, 0, None, encoded(payload, 3))
    result = check_record(record, decoder, REGISTERED, LIMITS)
    assert not isinstance(result, Rejection), result
    assert result.figures[-len(BAND_FIELDS) :] == (None,) * len(BAND_FIELDS)


def test_partial_breakdown_need_not_sum() -> None:
    payload = event(activity_date=yesterday(), total=10, clinical=5, admin=None, other=3)
    record = RawRecord("triage.daily.askmygp", 0, 0, None, encoded(payload))
    assert not isinstance(check_record(record, decoder, REGISTERED, LIMITS), Rejection)


def test_count_above_the_cap_is_implausible_count() -> None:
    r = check(event(activity_date=yesterday(), total=100_001))
    assert r.reason == Reason.IMPLAUSIBLE_COUNT
    assert r.detail == "total_requests 100001 is above the plausibility cap 100000"


def test_cap_is_a_setting() -> None:
    payload = event(activity_date=yesterday(), total=600)
    record = RawRecord("triage.daily.askmygp", 0, 0, None, encoded(payload))
    result = check_record(record, decoder, REGISTERED, Limits(TODAY, 400, 500))
    assert isinstance(result, Rejection)
    assert result.reason == Reason.IMPLAUSIBLE_COUNT


@pytest.mark.parametrize("revision", [0, -3])
def test_revision_below_one_is_invalid_revision(revision: int) -> None:
    r = check(event(activity_date=yesterday(), revision=revision))
    assert r.reason == Reason.INVALID_REVISION
    assert f"revision {revision} is below 1" == r.detail


def test_several_problems_take_the_first_reason_and_list_every_detail() -> None:
    r = check(event(practice_code="bad", activity_date=yesterday(), total=-1, revision=0))
    assert r.reason == Reason.INVALID_PRACTICE_CODE
    assert "total_requests -1 is negative" in r.detail
    assert "revision 0 is below 1" in r.detail


def test_undecodable_record_keeps_its_raw_bytes() -> None:
    record = RawRecord("triage.daily.askmygp", 1, 5, b"\xff\xfe", b"\x7fjunk")
    r = check_record(record, decoder, REGISTERED, LIMITS)
    assert isinstance(r, Rejection)
    assert (r.reason, r.key, r.value) == (Reason.UNDECODABLE, b"\xff\xfe", b"\x7fjunk")


def test_triage_keeps_order_and_splits_valid_from_rejected() -> None:
    good = [event(activity_date=yesterday(), total=i) for i in range(3)]
    records = [
        RawRecord("triage.daily.askmygp", 0, i, None, encoded(p)) for i, p in enumerate(good)
    ]
    records.insert(1, RawRecord("triage.daily.askmygp", 0, 99, None, b"junk"))
    result = triage(records, decoder, REGISTERED, LIMITS)
    assert [e.figures[0] for e in result.valid] == [0, 1, 2]
    assert [r.source.offset for r in result.rejections] == [99]


def test_the_latest_reason_check_of_the_database_lists_every_reason_code_in_order() -> None:
    """triage.rejected_events refuses a reason its CHECK does not list: the last migration that
    (re)defines that check must list every code of the enum (the contract's order)."""
    defining = [
        m.sql for m in discover() if "rejected_events_reason_check" in m.sql or m.version == 1
    ]
    sql = defining[-1]
    listed = re.findall(r"'([a-z_]+)'", sql[sql.index("CHECK (reason IN") :])
    assert listed == [reason.value for reason in Reason]


@pytest.mark.security
def test_a_rejection_detail_is_bounded_however_long_the_value_it_quotes() -> None:
    """Attacker-sized fields stay bounded: a 1 MB practice code was repeated whole in the
    stored detail."""
    huge = "A" + "9" * 1_000_000
    rejection = check(event(practice_code=huge, activity_date=yesterday()))
    assert rejection.reason is Reason.INVALID_PRACTICE_CODE
    # The detail quotes the first 100 characters and says how many more: it is short by
    # construction, so the whole detail is stored (the contract), not a cut one.
    assert rejection.detail.startswith(f"practice_code {huge[:100]!r}... (999901 more characters)")
    assert len(rejection.detail) < 300
    assert rejection.value is not None and len(rejection.value) > 1_000_000  # kept, once


@pytest.mark.security
def test_a_long_supplier_id_in_the_body_is_quoted_cut_to_100_characters() -> None:
    long_id = "x" * 5000
    rejection = check(event(supplier_id=long_id, activity_date=yesterday()))
    assert rejection.reason is Reason.SUPPLIER_MISMATCH
    assert rejection.detail.startswith(f"supplier_id {long_id[:100]!r}... (4900 more characters)")
    assert len(rejection.detail) < 300
