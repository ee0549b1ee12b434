"""No password in error messages: a password in a URL, in its user-info or in a ``?password=``
parameter, was printed in error messages."""

from __future__ import annotations

import pytest

from ingest.redaction import redact_text, redact_url

pytestmark = pytest.mark.security


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://svc:s3cr%40t@db:5432/triage", "postgresql://svc:***@db:5432/triage"),
        (
            "postgresql://svc@db/triage?sslmode=verify-full&password=s3cret",
            "postgresql://svc@db/triage?sslmode=verify-full&password=***",
        ),
        (
            "https://u:pw@registry.example/apis?token=abc",
            "https://u:***@registry.example/apis?token=***",
        ),
        ("postgresql://svc@db/triage", "postgresql://svc@db/triage"),
        ("127.0.0.1:9092", "127.0.0.1:9092"),
    ],
)
def test_passwords_in_urls_are_masked_and_nothing_else_changes(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_url_in_a_message_is_masked() -> None:
    message = (
        "cannot reach postgresql://a:one@h1/db and 'postgresql://h2/db?PASSWORD=two', "
        "nor http://b:three@registry:8080/x"
    )
    shown = redact_text(message)
    for secret in ("one", "two", "three"):
        assert f":{secret}@" not in shown and f"={secret}" not in shown
    assert shown.count("***") == 3


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (  # an unclosed IPv6 bracket
            "postgresql://svc:s3cret@[127.0.0.1/triage",
            "postgresql://svc:***@[127.0.0.1/triage",
        ),
        (
            "postgresql://svc:s3cret@[::1/triage?password=s3cret",
            "postgresql://svc:***@[::1/triage?password=***",
        ),
        ("postgresql://svc:s3c@ret@[db]]/triage", "postgresql://svc:***@[db]]/triage"),
    ],
)
def test_a_url_that_cannot_be_parsed_never_comes_back_with_its_password(
    url: str, shown: str
) -> None:
    """Reproduction (security review): `redact_url` returned a URL urlsplit refuses exactly as
    given, password and all, and error messages quoted it. Now its password is masked by the
    URL's shape alone."""
    assert redact_url(url) == shown
    assert (
        redact_text(f"cannot connect to {url} (refused)") == f"cannot connect to {shown} (refused)"
    )
