"""``mftui inspect`` and ``mftui verify``: plain and protected backups; an encrypted one without its key too."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli_output import ProgressBar, _print_json, _say, format_info, info_json
from .cli_protect import keys_for, opened
from .errors import ArchiveError, MftuiError
from .protection import KeyNeeded, describe_backup
from .settings import Settings
from .text import show_path
from .wording import human_size

EXIT_OK = 0


def inspect(settings: Settings, args: argparse.Namespace) -> int:
    from .protection import describe_backup

    described = describe_backup(settings, args.file)
    info = described.info
    data = {"ok": True, **info_json(info), **described.to_json()}
    text = ""
    if args.changes:
        from .cli_trial import both_scopes

        text = both_scopes(settings, _checked_info(settings, args), data)
    if args.json:
        _print_json(data)
        return EXIT_OK
    _say(format_info(info))
    for line in described.lines():
        _say(f"{'':<13}{line}")
    if text:
        _say()
        _say(text)
    return EXIT_OK


def _checked_info(settings: Settings, args: argparse.Namespace) -> Any:
    """The backup's information after the container, name and manifest checks (what a restore compares with);
    a protected backup's is read where it lies, with its key, and nothing is written (not even a partial file)."""
    from .archive.protected import is_protected
    from .archive.validate import open_archive
    from .protection import check_plain_policy, verify_protected

    if is_protected(args.file):
        identities, passphrase = keys_for(settings, args, args.file)
        return verify_protected(settings, args.file, identities, passphrase=passphrase, whole=False)[0]
    check_plain_policy(settings, args.file)
    with open_archive(args.file, settings.budgets) as archive:
        return archive.backup_info


def verify(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.protected import is_protected
    from .protection import KeyNeeded, WrongKey, verify_protected

    noted = _verify_noted(settings, args.file)
    try:
        if is_protected(args.file):  # read where it lies: no decrypted copy written first
            identities, passphrase = keys_for(settings, args, args.file)  # first: a passphrase's scrypt starts
            with ProgressBar("verify") as bar:
                info, described = verify_protected(settings, args.file, identities, passphrase=passphrase,
                                                   progress=bar)
        else:
            from .restore import verify_backup

            with opened(settings, args, args.file) as found, ProgressBar("verify") as bar:
                info = verify_backup(settings, found.plain, progress=bar)
                described = found.described
    except KeyNeeded as exc:
        return verify_without_key(settings, args, exc)
    except MftuiError as exc:
        if isinstance(exc, ArchiveError) and not isinstance(exc, WrongKey):  # the backup's fault, not the key's
            noted(False, str(exc))
        named = str(args.file) in str(exc) or show_path(args.file) in str(exc)
        _say(f"mftui: {exc}" if named else f"mftui: {show_path(args.file)}: {exc}", sys.stderr)
        if args.json:
            _print_json({"ok": False, "reason": str(exc)})
        return exc.exit_code  # 1, or 2 for a settings mistake (a key file named in the settings)
    noted(True, "")
    if args.json:
        _print_json({"ok": True, "complete": True, "files": len(info.files), "bytes": info.total_bytes,
                     **described.to_json()})
    else:
        _say(f"{show_path(args.file)}: ok ({len(info.files)} files, {human_size(info.total_bytes)}, "
             f"every checksum matches); {'; '.join(described.lines())}")
    return EXIT_OK


def _verify_noted(settings: Settings, path: Path) -> Callable[[bool, str], None]:
    """For a backup in the unit's backups folder: note the outcome of a complete verify, which the Backups
    screen shows (the file's identity is taken now, so a file changed meanwhile is not found verified)."""
    from datetime import UTC, datetime

    from .archive.catalog_cache import Verified, file_key, record_verified

    try:
        if path.resolve().parent != settings.backups_dir.resolve():
            return lambda ok, problem: None
        key = file_key(path.name, path.stat())
    except OSError:
        return lambda ok, problem: None

    def note(ok: bool, problem: str) -> None:
        record_verified(settings, key, Verified(ok, datetime.now(UTC).isoformat(timespec="seconds"), problem))

    return note


def verify_without_key(settings: Settings, args: argparse.Namespace, need: KeyNeeded) -> int:
    """The container, backup.json, the payload's SHA-256 and the signature are checked; the contents cannot be.

    Exit 0 (nothing found wrong), and the words and ``"complete": false`` say what was not checked.
    """
    from .archive.payload import check_payload_hash
    from .archive.protected import read_protected

    described = describe_backup(settings, args.file)  # the signature and [trust] passed in open_backup
    backup = read_protected(args.file)
    check_payload_hash(backup)
    info = described.info
    unchecked = (f"the {len(info.files)} files inside could not be checked: the payload is encrypted ({need}); "
                 "the payload's SHA-256 matches backup.json")
    if args.json:
        _print_json({"ok": True, "complete": False, "files": len(info.files), "bytes": info.total_bytes,
                     "unchecked": unchecked, **described.to_json()})
    else:
        _say(f"{show_path(args.file)}: the public part is ok ({'; '.join(described.lines())}); NOT checked: "
             f"{unchecked} ({len(info.files)} files, {human_size(info.total_bytes)})")
        if sys.stdout.isatty():
            _say("give the key (--passphrase-file or --identity) to check every file")
    return EXIT_OK
