from __future__ import annotations

from ingest.consumer.dead_letters import dead_letter, headers_dict
from ingest.contract.model import Reason, Rejection, SourcePosition


def test_dead_letter_keeps_key_and_value_and_carries_the_contract_headers() -> None:
    rejection = Rejection(
        SourcePosition("triage.daily.askmygp", 3, 41),
        b"A81001:2026-11-01",
        b"\x7f",
        "askmygp",
        Reason.UNDECODABLE,
        "unknown encoding",
    )
    letter = dead_letter(rejection)
    assert (letter.key, letter.value) == (b"A81001:2026-11-01", b"\x7f")
    assert headers_dict(letter.headers) == {
        "triage.error.reason": "undecodable",
        "triage.error.detail": "unknown encoding",
        "triage.source.topic": "triage.daily.askmygp",
        "triage.source.partition": "3",
        "triage.source.offset": "41",
    }
