"""The command line of transfers without a network: ``send``, ``receive`` (issue 14).

Registered by cli.py (COMMAND_MODULES): HELP lines go in ``mftui --help``, add_parsers adds the
subcommands, COMMANDS runs them. Import only what --help needs at the top; the work is imported lazily.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .settings import Settings

HELP: list[str] = []  # e.g. "prune      remove old backups as [retention] says"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to mftui's parser."""


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {}
