"""What an instance's configuration is: its root, which files belong, to which
component, which are the unit's identity, and who the unit is."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import BackupError
from .settings import Settings
from .text import show


@dataclass(frozen=True)
class Identity:
    """Who the unit is, from ``instance.json`` (blank strings where unknown)."""

    product: str = ""
    version: str = ""
    hub_id: str = ""
    hostname: str = ""


@dataclass(frozen=True)
class ConfigFile:
    """One regular file of the configuration."""

    path: str  # relative to the instance root, "/"-separated
    size: int
    mode: int  # permission bits only
    mtime_ns: int


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob where ``*`` stays inside one path segment and ``**`` spans any.

    ``logs/**`` matches ``logs`` itself too, so a whole excluded folder is pruned.
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(glob_regex(p).match(path) for p in patterns)


class Instance:
    """The instance root seen through the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.instance_root
        self._folders: dict[str, bool] = {}

    def includes(self, path: str) -> bool:
        """Whether a relative file path is part of the configuration, as a backup here would see it.

        The backup never enters an excluded folder, so a file under one (``work.tmp/x.json`` with
        ``**/*.tmp`` excluded) is not configuration either, whatever its own name.
        """
        s = self.settings
        if not matches(path, s.include) or matches(path, s.exclude):
            return False
        folder = path.rpartition("/")[0]
        return not folder or not self._excluded_folder(folder)

    def _excluded_folder(self, folder: str) -> bool:
        """Whether a folder, or one above it, is excluded (remembered: many files share a folder)."""
        known = self._folders.get(folder)
        if known is None:
            parent = folder.rpartition("/")[0]
            known = matches(folder, self.settings.exclude) or bool(parent and self._excluded_folder(parent))
            self._folders[folder] = known
        return known

    def component_of(self, path: str) -> str:
        for name, globs in self.settings.components.items():
            if matches(path, globs):
                return name
        return "other"

    def is_identity(self, path: str) -> bool:
        return matches(path, self.settings.identity)

    def identity(self) -> Identity:
        return read_identity(self.root / "instance.json")

    def walk(self, top: Path | None = None) -> Iterator[tuple[str, os.stat_result | OSError]]:
        """Every configuration entry under ``top`` (default: the root) that is not a folder, in path order.

        Yields ``(path, stat)`` (not following links), or ``(folder, OSError)``
        for a folder that cannot be read. Excluded folders are not entered;
        an entry that vanishes while it is walked is passed over. The one
        walk of a configuration tree: the backup's scan and the restore's
        comparison both use it.
        """
        exclude, include = self.settings.exclude, self.settings.include

        def walk(dir_abs: str, dir_rel: str) -> Iterator[tuple[str, os.stat_result | OSError]]:
            try:
                entries = sorted(os.scandir(dir_abs), key=lambda e: e.name)
            except OSError as exc:
                yield dir_rel or ".", exc
                return
            for entry in entries:
                rel = f"{dir_rel}/{entry.name}" if dir_rel else entry.name
                if matches(rel, exclude):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    yield from walk(entry.path, rel)
                elif matches(rel, include):
                    yield rel, st

        return walk(str(top or self.root), "")

    def scan(self) -> list[ConfigFile]:
        """Every configuration file, sorted by path.

        Links, sockets, devices and unreadable folders inside the configuration
        are refused, never skipped silently: a backup that quietly lacks a file
        would restore into a unit that does not work.
        """
        files: list[ConfigFile] = []
        problems: list[str] = []  # links and special files
        unreadable: list[str] = []  # folders
        for rel, st in self.walk():
            if isinstance(st, OSError):
                unreadable.append(f"{show(rel)}/ cannot be read ({st.strerror})")
            elif stat.S_ISREG(st.st_mode):
                # Permission bits only: a backup never carries setuid, setgid or sticky (a restore refuses them).
                files.append(ConfigFile(rel, st.st_size, st.st_mode & 0o777, st.st_mtime_ns))
            elif stat.S_ISLNK(st.st_mode):
                problems.append(f"{show(rel)} is a symbolic link")
            else:
                problems.append(f"{show(rel)} is a special file (socket, pipe or device)")
        if problems or unreadable:
            listed = unreadable + problems
            shown = "; ".join(listed[:5]) + (f"; and {len(listed) - 5} more" if len(listed) > 5 else "")
            todo = " or ".join(
                what for what, needed in (("fix the folder's permissions", unreadable),
                                          ("replace each link or special file with a regular file", problems))
                if needed
            )
            raise BackupError(
                f"the configuration holds what a backup cannot keep: {shown}. "
                f"{todo[0].upper() + todo[1:]}, or add it to [instance] exclude in the settings."
            )
        return files

    def size(self) -> tuple[int, int]:
        """(file count, bytes) of the configuration, for display."""
        files = self.scan()
        return len(files), sum(f.size for f in files)


MAX_IDENTITY_BYTES = 256 * 1024  # the demo's is 150 bytes; a reader parses it whole


def read_identity(path: Path) -> Identity:
    """Identity from an ``instance.json``; blanks when missing, unreadable, a link or far too big."""
    try:
        # Never through a link, and never more than an instance.json can be: a huge file is not one.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(MAX_IDENTITY_BYTES + 1)
    except OSError:
        return Identity()
    return parse_identity(raw)


def parse_identity(data: bytes) -> Identity:
    """Identity from an ``instance.json``'s bytes: the one reading of it (live, staged, or in an archive).

    Blanks when it is too big, not UTF-8 JSON, too deeply nested or not an
    object; any other value as ``str()`` makes it.
    """
    if len(data) > MAX_IDENTITY_BYTES:
        return Identity()
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return Identity()
    if not isinstance(parsed, dict):
        return Identity()
    return Identity(**{k: str(parsed.get(k, "")) for k in ("product", "version", "hub_id", "hostname")})
