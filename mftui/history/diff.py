"""What changed between two backups, or between a backup and the live configuration (``mftui diff``, the TUI).

:func:`diff_backups` compares manifests: a file whose SHA-256 and mode match in
both is not read at all. Against the live tree it reuses restore.changes
(the comparison a restore shows). :meth:`Diff.detail` reads one changed file
on demand, streamed through the archive reader (every checksum still checked,
only the first :data:`MAX_SHOWN` bytes kept) and gives its unified diff;
secrets (:func:`is_secret`) are never read into a diff, binary files give
their sizes, a long text its start and "cut". The lines are raw: a face
shows them through :meth:`FileDiff.shown` (control characters escaped).
"""

from __future__ import annotations

import difflib
import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..digest import sha256_of
from ..instance import Instance
from ..settings import Settings
from ..text import show
from ..wording import human_size

if TYPE_CHECKING:
    from ..archive import age
    from ..archive.format import FileEntry
    from ..archive.reading import Archive
    from ..archive.zipspec import Member

MAX_SHOWN = 128 * 1024  # bytes of each side read into a diff; the rest is said to be cut
MAX_LINES = 2000  # lines of each side compared
KINDS = ("added", "changed", "removed")

_SECRET_NAME = re.compile(r"psk|cred|secret|shadow|passw|private|token", re.IGNORECASE)
_SECRET_SUFFIXES = (".key", ".p12", ".pfx", ".jks", ".keystore", ".gpg", ".age")
_SECRET_CONTENT = re.compile(
    rb"PRIVATE KEY-----"  # a PEM private key (RSA, EC, OPENSSH, ENCRYPTED ...)
    rb"|[\"'](?:password|passwd|psk|secret|token|private_?key)[\"']\s*:"  # JSON / YAML keys
    rb"|^\s*(?:password|passwd|psk|secret|token|private_?key)\s*[=:]"  # TOML / ini / conf
    rb"|^[^:\s]+:\$[0-9a-z]+\$",  # a shadow line: user:$6$...
    re.IGNORECASE | re.MULTILINE,
)


def is_secret(path: str, content: bytes = b"") -> bool:
    """Whether a configuration file holds a secret, and so is never printed.

    By its name (``*.key``, anything named or under psk, cred, secret,
    shadow, passw, private, token) or, when given, by what it holds (a PEM
    private key, a password hash or key field).
    """
    name = path.casefold()
    if name.endswith(_SECRET_SUFFIXES) or _SECRET_NAME.search(name):
        return True
    return bool(content) and _SECRET_CONTENT.search(content) is not None


@dataclass(frozen=True)
class FileChange:
    """One file added (in B only), changed, or removed (in A only), with what each manifest says of it."""

    path: str
    component: str
    change: str  # "added", "changed" or "removed"
    size_a: int | None = None  # None: not in A
    size_b: int | None = None
    sha256_a: str | None = None
    sha256_b: str | None = None
    mode_a: int | None = None
    mode_b: int | None = None

    @property
    def secret(self) -> bool:
        """Secret by its name (FileDiff.secret also looks at what it holds)."""
        return is_secret(self.path)


@dataclass(frozen=True)
class FileDiff:
    """One changed file read: its unified diff (text), or why none is shown (secret, binary)."""

    change: FileChange
    lines: tuple[str, ...] = ()  # unified diff lines, raw (FileDiff.shown escapes them)
    secret: bool = False
    binary: bool = False
    cut: bool = False  # a side is longer than what was read
    sha256_b: str | None = None  # the live file's, which no manifest says
    problem: str = ""  # why a live file is not shown ("it is a symbolic link, ...")

    @property
    def summary(self) -> str:
        """``changed (secret, not shown)``, ``changed (binary, 10 bytes -> 12 bytes)``, ``added (+12 lines)``."""
        c = self.change
        if self.problem:
            return f"{c.change} (not shown: {self.problem})"
        if self.secret:
            return f"{c.change} (secret, not shown)"
        if self.binary:
            sizes = " -> ".join(_bytes(s) for s in (c.size_a, c.size_b) if s is not None)
            return f"{c.change} (binary, {sizes})"
        plus = sum(1 for line in self.lines if line.startswith("+") and not line.startswith("+++"))
        minus = sum(1 for line in self.lines if line.startswith("-") and not line.startswith("---"))
        words = [f"+{plus} -{minus} lines"]
        if c.mode_a is not None and c.mode_b is not None and c.mode_a != c.mode_b:
            words.append(f"mode {c.mode_a:04o} -> {c.mode_b:04o}")
        if self.cut:
            words.append(f"cut: only the start compared, {MAX_LINES:,} lines or {human_size(MAX_SHOWN)} of each side")
        return f"{c.change} ({'; '.join(words)})"

    def shown(self) -> list[str]:
        """The diff lines as a person may see them: tabs expanded, control characters escaped, never markup."""
        out = [show(line.expandtabs(4), limit=None) for line in self.lines]
        if self.cut:
            out.append(f"... cut: the file is longer; only its start ({MAX_LINES:,} lines or {human_size(MAX_SHOWN)}) "
                       "is compared")
        return out

    def to_json(self) -> dict[str, Any]:
        c = self.change
        data: dict[str, Any] = {
            "path": c.path, "component": c.component, "change": c.change, "secret": self.secret,
            "binary": self.binary, "cut": self.cut, "size_a": c.size_a, "size_b": c.size_b,
            "sha256_a": c.sha256_a, "sha256_b": c.sha256_b or self.sha256_b,
            "mode_a": _octal(c.mode_a), "mode_b": _octal(c.mode_b), "summary": self.summary,
        }
        if self.problem:
            data["problem"] = self.problem
        elif not self.secret and not self.binary:
            data["diff"] = self.shown()
        return data


class Unreadable(Exception):
    """A live file that cannot be shown (a link, a special file, no permission): said for that file only."""


class _Side(Protocol):
    def head(self, path: str) -> tuple[bytes, bool, str | None]:
        """The first MAX_SHOWN bytes, whether there is more, and the SHA-256 when known only now."""


class _ArchiveSide:
    """A backup's entries, read through the checked archive reader."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.entries: dict[str, tuple[Member, FileEntry]] = {e.path: (m, e) for m, e in archive.entries()}

    def head(self, path: str) -> tuple[bytes, bool, str | None]:
        member, entry = self.entries[path]
        kept: list[bytes] = []
        size = 0
        for chunk in self.archive.chunks(member, entry):  # to the end: every byte shown has passed its checksum
            if size < MAX_SHOWN + 1:
                kept.append(chunk[: MAX_SHOWN + 1 - size])
            size += len(chunk)
        data = b"".join(kept)
        return data[:MAX_SHOWN], len(data) > MAX_SHOWN, None


class _LiveSide:
    """The live configuration (never through a link)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def head(self, path: str) -> tuple[bytes, bool, str | None]:
        import hashlib

        try:
            fd = os.open(self.root / path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Unreadable("it is a symbolic link, which a restore replaces") from None
            raise Unreadable(f"it cannot be read ({exc.strerror})") from None
        digest, kept = hashlib.sha256(), b""
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise Unreadable("it is not a regular file (a restore replaces it)")
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
                if len(kept) <= MAX_SHOWN:
                    kept += chunk[: MAX_SHOWN + 1 - len(kept)]
        return kept[:MAX_SHOWN], len(kept) > MAX_SHOWN, digest.hexdigest()


@dataclass
class Diff:
    """What changed from A (a backup) to B (a backup, or the live configuration); close it when done."""

    name_a: str
    name_b: str
    changes: tuple[FileChange, ...]
    unchanged: int
    live: bool = False  # B is the live configuration
    _sides: tuple[_Side | None, _Side | None] = (None, None)
    _stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Diff:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.change == kind)

    def by_component(self) -> dict[str, list[FileChange]]:
        """Component -> its changes, components and paths in order."""
        out: dict[str, list[FileChange]] = {}
        for change in self.changes:
            out.setdefault(change.component, []).append(change)
        return out

    def find(self, path: str) -> FileChange | None:
        return next((c for c in self.changes if c.path == path), None)

    def detail(self, change: FileChange) -> FileDiff:
        """Read one changed file (never a secret's content into the result) and give its unified diff."""
        side_a, side_b = self._sides
        if change.secret:  # never read; the live file's SHA-256 still said (a digest, not its content)
            live = side_b.root if isinstance(side_b, _LiveSide) and change.size_b is not None else None
            return FileDiff(change, secret=True, sha256_b=sha256_of(live / change.path) if live else None)
        a, cut_a, _ = side_a.head(change.path) if side_a and change.size_a is not None else (b"", False, None)
        try:
            b, cut_b, sha_b = side_b.head(change.path) if side_b and change.size_b is not None else (b"", False, None)
        except Unreadable as exc:
            return FileDiff(change, problem=str(exc))
        if is_secret(change.path, a) or is_secret(change.path, b):
            return FileDiff(change, secret=True, sha256_b=sha_b)
        text_a, text_b = _text(a, cut_a), _text(b, cut_b)
        if text_a is None or text_b is None:
            return FileDiff(change, binary=True, sha256_b=sha_b)
        lines_a, lines_b = text_a.splitlines()[:MAX_LINES], text_b.splitlines()[:MAX_LINES]
        cut = cut_a or cut_b or len(text_a.splitlines()) > MAX_LINES or len(text_b.splitlines()) > MAX_LINES
        name_a = f"{self.name_a}/{change.path}" if change.size_a is not None else "/dev/null"
        name_b = f"{self.name_b}/{change.path}" if change.size_b is not None else "/dev/null"
        lines = tuple(difflib.unified_diff(lines_a, lines_b, name_a, name_b, lineterm=""))
        return FileDiff(change, lines, cut=cut, sha256_b=sha_b)

    def reversed(self) -> Diff:
        """From B to A: what restoring backup A onto B does (the restore pane shows that way round)."""
        flip = {"added": "removed", "removed": "added", "changed": "changed"}
        changes = tuple(replace(c, change=flip[c.change], size_a=c.size_b, size_b=c.size_a, sha256_a=c.sha256_b,
                                sha256_b=c.sha256_a, mode_a=c.mode_b, mode_b=c.mode_a) for c in self.changes)
        return Diff(self.name_b, self.name_a, changes, self.unchanged, live=self.live,
                    _sides=(self._sides[1], self._sides[0]), _stack=self._stack)

    def details(self) -> Iterator[FileDiff]:
        for change in self.changes:
            yield self.detail(change)


def diff_backups(settings: Settings, a: Path, b: Path | None = None, *, passphrase: bytes | None = None,
                 identities: Sequence[age.Identity] = (), names: tuple[str, str] | None = None) -> Diff:
    """What changed from backup ``a`` to backup ``b`` (None: to the live configuration).

    Reads the end records and backup.json of each; the files are read only
    by :meth:`Diff.detail`. An encrypted backup is opened with the keys
    given: KeyNeeded (as restore and inspect raise) when there are none.
    """
    from ..archive.validate import open_archive

    stack = ExitStack()
    try:
        archive_a = stack.enter_context(open_archive(_plain(settings, a, stack, passphrase, identities),
                                                     settings.budgets))
        shown = names or (a.name, b.name if b is not None else "live")
        if b is None:
            return _against_live(settings, archive_a, shown, stack)
        archive_b = stack.enter_context(open_archive(_plain(settings, b, stack, passphrase, identities),
                                                     settings.budgets))
    except BaseException:
        stack.close()
        raise
    instance = Instance(settings)
    old = {e.path: e for e in archive_a.files}
    new = {e.path: e for e in archive_b.files}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        x, y = old.get(path), new.get(path)
        if x is not None and y is not None and x.sha256 == y.sha256 and x.mode == y.mode:
            continue  # the same bytes: nothing to read
        kind = "removed" if y is None else "added" if x is None else "changed"
        changes.append(FileChange(path, instance.component_of(path), kind, _get(x, "size"), _get(y, "size"),
                                  _get(x, "sha256"), _get(y, "sha256"), _get(x, "mode"), _get(y, "mode")))
    unchanged = len(old.keys() & new.keys()) - sum(1 for c in changes if c.change == "changed")
    return Diff(shown[0], shown[1], _ordered(changes), unchanged, _sides=(_ArchiveSide(archive_a),
                _ArchiveSide(archive_b)), _stack=stack)


def _plain(settings: Settings, path: Path, stack: ExitStack, passphrase: bytes | None,
           identities: Sequence[age.Identity]) -> Path:
    """The format-v1 archive to read: the file, or its payload opened with the keys given (removed at close)."""
    from ..protection import is_opened_payload, open_backup

    if is_opened_payload(path):
        return path  # already opened (the CLI's key prompt, the restore pane's check)
    return stack.enter_context(open_backup(settings, path, identities, passphrase=passphrase)).plain


def _against_live(settings: Settings, archive: Archive, names: tuple[str, str], stack: ExitStack) -> Diff:
    """Backup -> live: restore.changes' comparison, read the other way (a file the backup lacks was added)."""
    from ..restore.changes import compute_changes, live_files

    instance = Instance(settings)
    root = settings.instance_root
    live = live_files(instance, root)
    found = compute_changes(settings, archive.backup_info, live=live, root=root)
    manifest = {e.path: e for e in archive.files}
    changes = []
    for kind, paths in (("removed", found.added), ("changed", found.changed), ("added", found.removed)):
        for path in paths:
            x, y = manifest.get(path), live.get(path)
            changes.append(FileChange(path, instance.component_of(path), kind, _get(x, "size"), _get(y, "size"),
                                      _get(x, "sha256"), None, _get(x, "mode"), _get(y, "mode")))
    return Diff(names[0], names[1], _ordered(changes), found.unchanged, live=True,
                _sides=(_ArchiveSide(archive), _LiveSide(root)), _stack=stack)


def _ordered(changes: list[FileChange]) -> tuple[FileChange, ...]:
    return tuple(sorted(changes, key=lambda c: (c.component, c.path)))


def _text(data: bytes, cut: bool) -> str | None:
    """The bytes as text, or None for binary (a NUL, or not UTF-8); a cut may split the last character."""
    if b"\0" in data:
        return None
    for trim in range(4 if cut else 1):
        try:
            return data[: len(data) - trim].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _get(entry: Any, name: str) -> Any:
    """A field of a manifest or live entry, None when the file is not on that side."""
    return None if entry is None else getattr(entry, name)


def _bytes(size: int) -> str:
    return f"{size:,} bytes" if size < 10 * 1024 else human_size(size)


def _octal(mode: int | None) -> str | None:
    return None if mode is None else f"{mode:04o}"
