"""Writing a command's ``--out`` file safely: never through a name an attacker can predict or a
link they planted, and never half-written.

The content goes to a new file beside the target, created with a random name and ``O_EXCL``
(``tempfile.mkstemp``: a planted symlink cannot be followed), then replaces the target in one
``os.replace``. A target that is a symbolic link or a directory is refused in one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ingest.errors import ConfigurationError


def check_target(out: Path) -> None:
    """One clear line (ConfigurationError: exit 2) when ``out`` cannot be written safely."""
    if out.is_symlink():
        raise ConfigurationError(
            f"--out {out} is a symbolic link: refusing to write through it; remove it or "
            "choose another path"
        )
    if out.is_dir():
        raise ConfigurationError(f"--out {out} is a directory: give a file name")
    parent = out.parent
    if not parent.is_dir():
        raise ConfigurationError(f"--out {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigurationError(f"--out {out}: folder {parent} is not writable")


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[BinaryIO]:
    """A binary file to write; on success it replaces ``out`` whole (mode from the umask),
    on failure it is removed and ``out`` is left as it was."""
    check_target(out)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    part = Path(name)
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        check_target(out)  # still no link or folder planted meanwhile
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
