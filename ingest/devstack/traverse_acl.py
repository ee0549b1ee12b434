"""Letting one account pass through a folder, and no other (POSIX access ACLs).

Run as root, the local stack's PostgreSQL server runs as its own system account, which must
reach its binaries and data folder. A clone under a closed folder (``/root``, 0700) stops it.
Widening that folder (``o+rx``) would open it to every local account; instead that one
account is given ``--x`` on it by an ACL entry (``user:<account>:--x``): it may pass through,
not list or read, and nobody else gains anything. ``getfacl`` shows the entry.

The ACL is the Linux ``system.posix_acl_access`` extended attribute: a little-endian header
(version 2) and entries (tag u16, permissions u16, id u32) sorted by tag, then id; named
entries need a mask, which the kernel shows as the group bits of the mode.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

XATTR = "system.posix_acl_access"
VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED_ID = 0xFFFFFFFF
EXECUTE = 0o1
_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")


@dataclass(frozen=True, order=True)
class Entry:
    tag: int
    id: int
    perm: int


def from_mode(mode: int) -> list[Entry]:
    """The three entries a folder without an ACL has, read from its mode (pure)."""
    return [
        Entry(USER_OBJ, UNDEFINED_ID, (mode >> 6) & 0o7),
        Entry(GROUP_OBJ, UNDEFINED_ID, (mode >> 3) & 0o7),
        Entry(OTHER, UNDEFINED_ID, mode & 0o7),
    ]


def decode(raw: bytes) -> list[Entry]:
    """The entries of an ACL attribute (pure); ValueError when it is not one."""
    if len(raw) < _HEADER.size or (len(raw) - _HEADER.size) % _ENTRY.size:
        raise ValueError("not a POSIX ACL")
    (version,) = _HEADER.unpack_from(raw)
    if version != VERSION:
        raise ValueError(f"POSIX ACL version {version}")
    entries = []
    for offset in range(_HEADER.size, len(raw), _ENTRY.size):
        tag, perm, ident = _ENTRY.unpack_from(raw, offset)
        entries.append(Entry(tag, ident, perm))
    return entries


def encode(entries: list[Entry]) -> bytes:
    """An ACL attribute of these entries, sorted as the kernel wants them (pure)."""
    body = b"".join(_ENTRY.pack(e.tag, e.perm, e.id) for e in sorted(entries))
    return _HEADER.pack(VERSION) + body


def with_traverse(entries: list[Entry], uid: int) -> list[Entry]:
    """``entries`` plus ``user:<uid>:--x`` (kept with its other rights if it was there), and a
    mask letting it through; every other entry's effective rights unchanged (pure)."""
    named = [e for e in entries if e.tag == USER and e.id == uid]
    perm = (named[0].perm if named else 0) | EXECUTE
    kept = [e for e in entries if not (e.tag == USER and e.id == uid) and e.tag != MASK]
    masks = [e for e in entries if e.tag == MASK]
    group_obj = next(e.perm for e in entries if e.tag == GROUP_OBJ)
    # without a mask the group owner's rights were the group bits; keep them as the mask
    mask = (masks[0].perm if masks else group_obj) | EXECUTE
    return [*kept, Entry(USER, uid, perm), Entry(MASK, UNDEFINED_ID, mask)]


def entries_of(folder: Path) -> list[Entry]:
    """The folder's ACL: its attribute, else the three entries its mode gives."""
    try:
        return decode(os.getxattr(folder, XATTR, follow_symlinks=False))
    except OSError:
        return from_mode(folder.lstat().st_mode)


def may_traverse(folder: Path, uid: int, gids: set[int]) -> bool:
    """Whether the account (not root) may pass through the folder, ACL included: the owner's
    bits for its owner, else its named entry (under the mask), else the group's, else others'."""
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        return False
    entries = entries_of(folder)
    mask = next((e.perm for e in entries if e.tag == MASK), 0o7)
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    for entry in entries:
        if entry.tag == USER and entry.id == uid:
            return bool(entry.perm & mask & EXECUTE)
    groups = [e for e in entries if e.tag == GROUP_OBJ and info.st_gid in gids]
    groups += [e for e in entries if e.tag == GROUP and e.id in gids]
    if groups:
        return any(e.perm & mask & EXECUTE for e in groups)
    return bool(info.st_mode & stat.S_IXOTH)


def grant_traverse(folder: Path, uid: int) -> None:
    """Give the account ``--x`` on the folder by an ACL entry (OSError when the file system
    keeps no ACLs, or the caller may not set one)."""
    os.setxattr(
        folder, XATTR, encode(with_traverse(entries_of(folder), uid)), 0, follow_symlinks=False
    )
