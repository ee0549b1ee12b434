"""Process limits raised at start: the open-files soft limit.

Every HTTP connection, Kafka connection and Postgres connection takes a file descriptor. With a
low soft limit (1,024 is common, some containers give less) a burst of HTTP clients could use
them all and leave the consumer unable to reach Postgres ("Too many open files"). The soft
limit is raised to the hard limit (at most OPEN_FILES_WANTED); the HTTP server also caps its
connections (INGEST_HTTP_MAX_CONNECTIONS) well below it.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

OPEN_FILES_WANTED = 65536


def raise_open_files_limit(wanted: int = OPEN_FILES_WANTED) -> int:
    """Raise RLIMIT_NOFILE's soft limit towards ``wanted`` (never above the hard limit, never
    lowered); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning(
                "open-files limit stays %d (could not raise it to %d: %s)", soft, target, exc
            )
            return soft
        log.info("open-files limit raised from %d to %d", soft, target)
        return target
    return soft
