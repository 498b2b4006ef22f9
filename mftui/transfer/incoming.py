"""Where a backup received over the console line lands: ``incoming/`` inside the backups folder.

A transfer (ZMODEM or pasted text) writes into a private folder of its own
(``incoming/.receiving-<pid>-<random>``, mode 0700). The file is checked
there (its name, its size, then every check a restore makes) and only then
linked under its final name in ``incoming/``: mode 0600, never over an
existing file (a suffix ``-2``, ``-3``... instead). An interrupted transfer
leaves nothing under a final name; the private folder is removed, and one a
killed mftui left behind is removed by the next receive.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..archive.partials import process_alive
from ..durable import fsync_path
from ..errors import CopyError, MftuiError
from ..settings import Settings
from ..text import show, show_path

INCOMING = "incoming"
PRIVATE_PREFIX = ".receiving-"
# What a received file may be called: what the writer names backups, any case (a FAT stick upper-cases).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.zip", re.IGNORECASE)


@dataclass(frozen=True)
class Received:
    """A received backup, checked, under its final name (``path``) in incoming/."""

    path: Path
    size: int
    sha256: str
    complete: bool  # every file inside checked; False: an encrypted backup whose key was not given
    summary: str  # one line: what the check found ("12 files, 40.2 KiB, every checksum matches")
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "path": str(self.path), "bytes": self.size, "sha256": self.sha256,
                "verified": True, "complete": self.complete, "summary": self.summary, **self.info}


def incoming_dir(settings: Settings) -> Path:
    """``incoming/`` in the backups folder, made (0700) if needed; a link there is refused."""
    folder = settings.backups_dir / INCOMING
    try:
        settings.backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        raise CopyError(f"the folder {show_path(folder)} cannot be made ({exc.strerror or exc}); "
                        "check the backups folder can be written") from None
    if not stat.S_ISDIR(st.st_mode):
        raise CopyError(f"{show_path(folder)} is not a folder (a link or a file); remove it and try again")
    return folder


class PrivateFolder:
    """The transfer's own folder (0700) inside incoming/; removed with whatever it holds on exit."""

    def __init__(self, settings: Settings) -> None:
        self.incoming = incoming_dir(settings)
        remove_stale(self.incoming)
        self.path = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=self.incoming))

    def __enter__(self) -> PrivateFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def only_file(self) -> Path:
        """The one regular file the transfer left here; anything else (none, two, a link, a folder) is refused."""
        entries = list(self.path.iterdir())
        files = [p for p in entries if stat.S_ISREG(os.lstat(p).st_mode)]
        if not entries:
            raise CopyError("no file arrived; start the transfer again (ZMODEM: send the file from your terminal)")
        if len(entries) != 1 or len(files) != 1:
            raise CopyError(f"{len(entries)} entries arrived instead of one backup file; send one .zip file only")
        return files[0]


def remove_stale(incoming: Path) -> None:
    """Remove the private folders of receives whose mftui is gone (killed, or the power cut)."""
    for entry in incoming.glob(f"{PRIVATE_PREFIX}*"):
        pid = entry.name[len(PRIVATE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def check_name(name: str) -> str:
    """The received file's name if a backup could be called so, else a sentence (CopyError)."""
    if not NAME.fullmatch(name):
        raise CopyError(f"the file received is called {show(name)!r}, which is not a backup's name (letters, "
                        "digits, . _ - and .zip); rename it on your computer and send it again")
    return name


def check_file(settings: Settings, path: Path, expected_size: int | None = None) -> tuple[bool, str, dict[str, Any]]:
    """Size, then every check a restore makes; (complete, summary, info for --json). Raises with the reason."""
    size = os.lstat(path).st_size
    if size == 0:
        raise CopyError("the file received is empty; send it again")
    if expected_size is not None and size != expected_size:
        raise CopyError(f"the file received has {size} bytes instead of {expected_size}; send it again")
    if size > settings.budgets.max_total_bytes:
        raise CopyError(f"the file received ({size} bytes) is larger than any backup this unit accepts")
    from ..protection import KeyNeeded, open_backup
    from ..restore import verify_backup
    from ..wording import human_size

    try:
        with open_backup(settings, path) as found:
            info = verify_backup(settings, found.plain)
            lines = found.described.lines()
    except KeyNeeded as exc:
        from ..archive.payload import check_payload_hash
        from ..archive.protected import read_protected

        check_payload_hash(read_protected(path))  # the encrypted payload is the one backup.json names
        return False, (f"the public part is ok and the payload's SHA-256 matches; the files inside were not "
                       f"checked: {exc}"), {}
    summary = (f"{len(info.files)} files, {human_size(info.total_bytes)}, every checksum matches"
               + (f"; {'; '.join(lines)}" if lines else ""))
    return True, summary, {"files": len(info.files), "config_bytes": info.total_bytes, "name": info.name,
                           "created_at": info.created_at}


def place(received: Path, incoming: Path, name: str) -> Path:
    """Link the checked file under ``name`` in incoming/ (0600), never over another file: ``-2``... instead."""
    os.chmod(received, 0o600)
    with open(received, "rb") as f:
        os.fsync(f.fileno())
    stem, suffix = name[: -len(".zip")], name[-len(".zip"):]
    for serial in range(1, 1000):
        final = incoming / (name if serial == 1 else f"{stem}-{serial}{suffix}")
        try:
            os.link(received, final)  # atomic, and fails rather than replace (EEXIST)
        except FileExistsError:
            continue
        except OSError as exc:
            raise CopyError(f"the received file could not be put in {show_path(incoming)} "
                            f"({exc.strerror or exc}); check the folder can be written") from None
        fsync_path(incoming, best_effort=True)
        return final
    raise CopyError(f"{show_path(incoming)} already holds 999 files called {show(name)}; remove some")


def finish(settings: Settings, folder: PrivateFolder, expected: tuple[int, str] | None = None) -> Received:
    """Check the one file in the private folder and give it its final name in incoming/."""
    from ..digest import sha256_of

    arrived = folder.only_file()
    name = check_name(arrived.name)
    try:
        complete, summary, info = check_file(settings, arrived, expected[0] if expected else None)
    except CopyError:
        raise
    except MftuiError as exc:
        raise CopyError(f"{show(name)} arrived but is refused, and was not kept: {exc}") from None
    digest = sha256_of(arrived)
    if digest is None:
        raise CopyError(f"the file received in {show_path(folder.path)} cannot be read back; try again")
    if expected is not None and digest != expected[1]:
        raise CopyError("the file received does not match the SHA-256 its sender announced; send it again")
    final = place(arrived, folder.incoming, name)
    return Received(final, os.lstat(final).st_size, digest, complete, summary, info)
