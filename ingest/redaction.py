"""Secrets out of what is printed or logged (pure): passwords in URLs, in the user-info part
(``postgresql://user:secret@host``) or in query parameters (``?password=secret``)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMETERS = frozenset({"password", "sslpassword", "pass", "passwd", "secret", "token"})
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


_SECRET_PARAMETER = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMETERS)) + r")=[^&#]*"
)


def redact_url(url: str) -> str:
    """The URL with any password masked; everything else as it was. A URL that cannot be
    parsed is masked by its shape alone (never returned with its password)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_unparsed(url)
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


def _redact_unparsed(url: str) -> str:
    """Mask what looks like a password in a string urlsplit refuses: the user-info after the
    first ``:`` up to the last ``@``, and secret query parameters."""
    scheme, sep, rest = url.rpartition("://") if "://" in url else ("", "", url)
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    elif at:
        rest = f"{MASK}@{host}"
    return f"{scheme}{sep}{_SECRET_PARAMETER.sub(lambda m: f'{m.group(1)}={MASK}', rest)}"


def redact_text(text: str) -> str:
    """Every URL in ``text`` redacted (an error message quoting a connection string)."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)
