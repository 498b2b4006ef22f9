"""Where the stylesheets are: inside the installed package, or in a checkout.

The wheel force-includes the top-level ``styles/`` as ``mftui/styles``; a
checkout (or an editable install) has it beside the package.
"""

from __future__ import annotations

from pathlib import Path, PurePath

import mftui

# Order matters: later files refine earlier ones (low_bandwidth.tcss last).
STYLESHEETS = (
    "app.tcss",
    "administration.tcss",
    "backup_restore.tcss",
    "dialogs.tcss",
    "backups.tcss",
    "low_bandwidth.tcss",
    "ascii.tcss",
)


def styles_dir() -> Path:
    package = Path(mftui.__file__).resolve().parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / STYLESHEETS[0]).is_file():
            return candidate
    raise FileNotFoundError(f"mftui's stylesheets are missing (looked in {package / 'styles'}); reinstall mftui")


def stylesheets() -> list[str | PurePath]:
    """The app's stylesheets, in the order Textual reads them (typed as App.CSS_PATH wants)."""
    folder = styles_dir()
    return [folder / name for name in STYLESHEETS]
