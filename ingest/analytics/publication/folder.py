"""A publication folder (``ingest publish --out DIR``) handled through directory descriptors.

A publication folder may be shared: another local user who can write into it could plant a
symbolic link (``README.md`` pointing at a root-only file, ``editions/edition-1`` pointing at
a root-owned folder) and have the next publish copy a secret into a world-readable file or
overwrite files elsewhere. So:

- ``--out`` is opened once (``O_DIRECTORY | O_NOFOLLOW``) and every later name is resolved
  relative to that descriptor (``dir_fd``), never as a path string that could be re-resolved;
- a folder writable by others (mode ``o+w``) is refused: anyone could plant links in it;
- before anything is read or written, the whole tree under it is walked without following
  links, and any symbolic link found anywhere is refused in one line;
- files are read with ``O_NOFOLLOW`` and must be regular files; files are written to a new
  name of random suffix (``O_CREAT | O_EXCL | O_NOFOLLOW``) and renamed over the target
  within the same directory descriptor, so none is ever half-written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from ingest.errors import ConfigurationError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PublicationFolder:
    """An open directory (its descriptor) and the path it was reached by, for messages."""

    def __init__(self, fd: int, shown: str) -> None:
        self._fd = fd
        self.shown = shown

    @classmethod
    def open(cls, out: Path) -> PublicationFolder:
        """Open (creating it if absent) ``out`` after the checks of the module docstring."""
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(out, 0o755)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigurationError(f"cannot create {out}: {exc.strerror or exc}") from exc
        try:
            fd = os.open(out, _DIR_FLAGS)
        except OSError as exc:
            raise ConfigurationError(_refusal(str(out), exc, out.is_symlink())) from exc
        folder = cls(fd, str(out))
        try:
            mode = os.fstat(fd).st_mode
            if mode & stat.S_IWOTH:
                raise ConfigurationError(
                    f"{out} is writable by other users (mode {stat.filemode(mode)}): anyone "
                    "could plant links in it; use a folder only you can write (chmod o-w)"
                )
            folder.refuse_links()
        except BaseException:
            folder.close()
            raise
        return folder

    def __enter__(self) -> PublicationFolder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def refuse_links(self) -> None:
        """Walk the tree under this folder without following links; refuse any link found."""
        for relative in _links_under(self._fd, ""):
            raise ConfigurationError(
                f"{self.shown}/{relative} is a symbolic link: refusing to publish through a "
                "folder holding links; remove it"
            )

    def names(self) -> list[str]:
        """The names in this folder (no order promised)."""
        return os.listdir(self._fd)

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def read(self, name: str) -> bytes:
        """The content of the regular file ``name`` (a link or anything else is refused)."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self._fd)
        except OSError as exc:
            raise ConfigurationError(_refusal(f"{self.shown}/{name}", exc)) from exc
        with os.fdopen(fd, "rb") as source:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigurationError(f"{self.shown}/{name} is not a regular file")
            return source.read()

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` whole with ``data`` (a new file renamed over it; mode from umask)."""
        part = f".{name}.{secrets.token_hex(8)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(part, flags, 0o666, dir_fd=self._fd)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write in {self.shown}: {exc.strerror or exc}"
            ) from exc
        try:
            with os.fdopen(fd, "wb") as sink:
                sink.write(data)
                sink.flush()
                os.fsync(sink.fileno())
            self._refuse_non_file(name)
            os.replace(part, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write {self.shown}/{name}: {exc.strerror or exc}"
            ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part, dir_fd=self._fd)

    def move_to(self, name: str, other: PublicationFolder) -> None:
        """Move the file ``name`` into ``other`` (same name; replaces what is there)."""
        self._refuse_non_file(name)
        os.replace(name, name, src_dir_fd=self._fd, dst_dir_fd=other._fd)

    def subfolder(self, name: str) -> PublicationFolder:
        """The folder ``name`` inside this one, created if absent (a link is refused)."""
        try:
            os.mkdir(name, 0o755, dir_fd=self._fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigurationError(f"cannot create {self.shown}/{name}: {exc.strerror}") from exc
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=self._fd)
        except OSError as exc:
            planted = stat.S_ISLNK(os.stat(name, dir_fd=self._fd, follow_symlinks=False).st_mode)
            raise ConfigurationError(_refusal(f"{self.shown}/{name}", exc, planted)) from exc
        return PublicationFolder(fd, f"{self.shown}/{name}")

    def _refuse_non_file(self, name: str) -> None:
        try:
            mode = os.stat(name, dir_fd=self._fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise ConfigurationError(
                f"{self.shown}/{name} is a symbolic link: refusing to replace it"
            )
        if not stat.S_ISREG(mode):
            raise ConfigurationError(f"{self.shown}/{name} is not a regular file")


def _links_under(fd: int, prefix: str) -> Iterator[str]:
    with os.scandir(fd) as entries:
        listed = list(entries)
    for entry in listed:
        relative = f"{prefix}{entry.name}"
        if entry.is_symlink():
            yield relative
        elif entry.is_dir(follow_symlinks=False):
            try:
                child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link meanwhile
                    yield relative
                    continue
                raise ConfigurationError(f"cannot read {relative}: {exc.strerror}") from exc
            try:
                yield from _links_under(child, f"{relative}/")
            finally:
                os.close(child)


def _refusal(shown: str, exc: OSError, link: bool = False) -> str:
    # O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR or ELOOP depending on the target.
    if exc.errno == errno.ELOOP or link:
        return f"{shown} is a symbolic link: refusing to publish through it; remove it"
    if exc.errno == errno.ENOTDIR:
        return f"{shown} is not a folder"
    return f"cannot open {shown}: {exc.strerror or exc}"
