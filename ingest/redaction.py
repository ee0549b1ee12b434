"""Secrets out of what is printed or logged (pure): passwords in URLs, in the user-info part
(``postgresql://user:secret@host``) or in query parameters (``?password=secret``)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMETERS = frozenset({"password", "sslpassword", "pass", "passwd", "secret", "token"})
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """The URL with any password masked; everything else as it was."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in SECRET_PARAMETERS for key, _ in pairs):
            masked = [(k, MASK if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs]
            query = urlencode(masked, safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_text(text: str) -> str:
    """Every URL in ``text`` redacted (an error message quoting a connection string)."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)
