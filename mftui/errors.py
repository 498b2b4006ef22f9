"""One exception hierarchy for the core.

Every message is written for a technician: it says what is wrong and, where
there is one, what to do next. The CLI prints it; the TUI shows it in a dialog.
"""

from __future__ import annotations


class MftuiError(Exception):
    """Base of every error the core reports to a person."""

    exit_code = 1


class SettingsError(MftuiError):
    """The settings file is missing, broken or names something that is not there."""

    exit_code = 2


class UsageError(MftuiError):
    """The command line asked for something that cannot be done as asked."""

    exit_code = 2


class ArchiveError(MftuiError):
    """A backup archive is damaged, hostile, or of a format this tool cannot read."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path  # the offending entry, where there is one


class BackupError(MftuiError):
    """A backup could not be made; no partial archive was left behind."""


class UnrestorableError(BackupError):
    """The configuration holds what a restore would refuse (a name, a size), so no backup was made of it."""


class RestoreError(MftuiError):
    """A restore could not be done; the live configuration is unchanged."""


class StateError(MftuiError):
    """The state folder is not one mftui made (a link, another user's, open to others) or cannot be made."""


class CopyError(MftuiError):
    """A copy of a backup to a folder (a USB stick) failed; the original backup is untouched."""


class LockBusy(MftuiError):
    """Another backup or restore holds the instance lock."""


class RebootError(MftuiError):
    """The reboot request failed. A committed restore stays committed."""
