"""The command line's side of protected backups: the key options, passphrase prompts, and ``mftui keygen``.

A passphrase comes from ``--passphrase-file PATH``, ``[protection]
passphrase_file``, or, on a terminal, a prompt with echo off (twice when it
protects a new backup). Never from an argument or an environment variable's value.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .cli_output import _print_json, _say
from .errors import UsageError
from .settings import Settings
from .text import show_path

if TYPE_CHECKING:  # the cryptography behind these is imported only when a command needs it
    from .archive import age
    from .archive.protector import Protector
    from .protection import Opened

EXIT_OK = 0


def add_key_options(p: argparse.ArgumentParser) -> None:
    """``--passphrase-file`` and ``--identity``: what opens an encrypted backup."""
    p.add_argument("--passphrase-file", type=Path, metavar="PATH",
                   help="the passphrase of an encrypted backup: the file's first line (else asked on a terminal)")
    p.add_argument("--identity", type=Path, metavar="FILE",
                   help="opens a backup encrypted for recipients: an age key file or an OpenSSH private key")


def add_backup_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encrypt", choices=("off", "passphrase", "recipients"),
                   help="encrypt this backup (default: [protection] encrypt)")
    p.add_argument("--passphrase-file", type=Path, metavar="PATH",
                   help="the passphrase: the file's first line (else asked twice on a terminal)")
    p.add_argument("--recipients-file", type=Path, metavar="FILE",
                   help="public keys to encrypt for, one a line: age1… or ssh-ed25519/ssh-rsa")


def add_keygen_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("keygen", help="make an Ed25519 signing key ([protection] sign_key)")
    p.add_argument("path", type=Path, help="where to write the private key (PATH.pub gets the public line)")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def _tty() -> bool:
    return sys.stdin.isatty()


def ask_passphrase(prompt: str = "Passphrase: ", *, twice: bool = False) -> bytes:
    """Read a passphrase on the terminal, echo off; twice (and the same) when it protects a new backup."""
    from .keys import KeyProblem, check_passphrase

    if not _tty():
        raise UsageError("a passphrase is needed and there is no terminal to ask on: give --passphrase-file PATH")
    first = getpass.getpass(prompt).encode()
    check_passphrase(first)
    if twice and getpass.getpass("The same passphrase again: ").encode() != first:
        raise KeyProblem("the two passphrases differ; nothing was made; try again")
    return first


def backup_protector(settings: Settings, args: argparse.Namespace) -> Protector:
    """The Protector for ``mftui backup``: [protection] and the options; the passphrase asked when needed."""
    from .archive.protector import Protector

    mode = args.encrypt or settings.protection.encrypt
    if mode == "off" and settings.protection.sign_key is None:
        return Protector()  # plain: cryptography is not even imported
    from .keys import read_passphrase_file
    from .protection import protector_for

    passphrase = None
    if mode == "passphrase":
        if args.passphrase_file is not None:
            passphrase = read_passphrase_file(args.passphrase_file)
        elif settings.protection.passphrase_file is None:
            passphrase = ask_passphrase("Passphrase for the backup: ", twice=True)
    chosen = protector_for(settings, encrypt=mode, passphrase=passphrase, recipients_file=args.recipients_file)
    return chosen or Protector()  # plain (--encrypt off), not "as the settings say"


def _keys(settings: Settings, args: argparse.Namespace) -> tuple[list[age.Identity], bytes | None]:
    """The keys given: --identity, --passphrase-file, else [protection] identity_file and passphrase_file."""
    from .keys import read_identities, read_passphrase_file
    from .protection import setting_file

    p = settings.protection
    identities: list[age.Identity] = []
    if getattr(args, "identity", None) is not None:
        identities = read_identities(args.identity)
    elif p.identity_file is not None:
        identities = setting_file(read_identities, p.identity_file, "identity_file")
    passphrase = None
    if getattr(args, "passphrase_file", None) is not None:
        passphrase = read_passphrase_file(args.passphrase_file)
    elif p.passphrase_file is not None:
        passphrase = setting_file(read_passphrase_file, p.passphrase_file, "passphrase_file")
    return identities, passphrase


@contextmanager
def opened(settings: Settings, args: argparse.Namespace, path: Path) -> Iterator[Opened]:
    """The backup ready to read: a protected one's payload opened with the keys given, or asked for.

    A plain backup needs no key: none is read (and cryptography is not imported).
    """
    from .protection import open_backup

    identities, passphrase = keys_for(settings, args, path)
    with open_backup(settings, path, identities, passphrase=passphrase) as found:
        yield found


def keys_for(settings: Settings, args: argparse.Namespace, path: Path) -> tuple[list[age.Identity], bytes | None]:
    """The keys for ``path``: none for a plain backup; else the options, the settings, or a passphrase asked."""
    from .protection import describe_backup

    protection = describe_backup(settings, path).protection
    identities: list[age.Identity] = []
    passphrase = None
    if protection is not None and protection.encrypted:
        identities, passphrase = _keys(settings, args)
        if passphrase is None and not identities and protection.encryption == "passphrase" and _tty():
            passphrase = ask_passphrase(f"Passphrase of {path.name}: ")
        if passphrase is not None and protection.encryption == "passphrase":
            from .protection import derive_ahead

            derive_ahead(path, passphrase)  # its scrypt runs while the command goes on
    return identities, passphrase


def cmd_keygen(settings: Settings, args: argparse.Namespace) -> int:
    from .keys import keygen, public_line

    key = keygen(args.path)
    line = public_line(key)
    if args.json:
        _print_json({"ok": True, "path": str(args.path), "public_key": line, "public_key_path": f"{args.path}.pub"})
    else:
        _say(f"Wrote the signing key {show_path(args.path)} (mode 0600) and {show_path(str(args.path) + '.pub')}.")
        _say("Set it in the settings ([protection] sign_key), and put this line, with a name in front, in the "
             "allowed_signers file of every unit and computer that checks the backups:")
        _say(f"backups@{os.uname().nodename} {line}")
    return EXIT_OK


def safety_protector(settings: Settings, found: Opened) -> Protector | None:
    """How the restore's safety archive is protected: like the unit's backups ([protection]); with a passphrase,
    the one that opened this backup when it was one, else [protection] passphrase_file, else asked."""
    from .protection import protector_for

    p = settings.protection
    if p.encrypt == "off" and p.sign_key is None:
        return None
    passphrase = None
    if p.encrypt == "passphrase" and p.passphrase_file is None:
        passphrase = found.passphrase or ask_passphrase("Passphrase for the safety backup: ", twice=True)
    return protector_for(settings, passphrase=passphrase)
